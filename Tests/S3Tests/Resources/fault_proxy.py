#!/usr/bin/env python3
"""A loopback HTTP proxy in front of an S3 server that injects faults, for the S3 client's fault tests.

    fault_proxy.py UPSTREAM_URL [--fail-rate R] [--cut-rate R] [--seed N] [--deny CODE [--deny-matching TEXT]]

Listens on 127.0.0.1 on a free port and prints "PORT <n>" once ready. Each request, independently:
  - with probability --fail-rate: answered 500 InternalError or 503 SlowDown without reaching the upstream;
  - with probability --cut-rate: forwarded (so the upstream did the work), then the answer is cut off
    halfway (or after 8 bytes when it has no body) and the connection closed;
  - otherwise forwarded unchanged.
--deny CODE answers every request 403 with that S3 error code (a service that refuses the credentials);
with --deny-matching TEXT only requests whose "METHOD path?query" contains TEXT, the others pass unharmed.
GET /__faults answers the counts so far as JSON. Stops on SIGTERM or when stdin closes.
"""
import argparse
import http.client
import json
import random
import signal
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "expect"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("upstream")
    parser.add_argument("--fail-rate", type=float, default=0.05)
    parser.add_argument("--cut-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deny")
    parser.add_argument("--deny-matching", help="deny only requests whose 'METHOD path?query' contains this")
    args = parser.parse_args()
    upstream = urllib.parse.urlsplit(args.upstream)
    rng = random.Random(args.seed)
    lock = threading.Lock()
    counts = {"requests": 0, "failed": 0, "cut": 0, "forwarded": 0}

    def fate() -> str:
        with lock:
            counts["requests"] += 1
            draw = rng.random()
        if draw < args.fail_rate:
            return "fail"
        if draw < args.fail_rate + args.cut_rate:
            return "cut"
        return "forward"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def reply(self, status: int, body: bytes, content_type: str = "application/xml") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def error(self, status: int, code: str) -> None:
            body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by fault_proxy</Message></Error>"
            self.reply(status, body.encode())

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/__faults":
                with lock:
                    self.reply(200, json.dumps(counts).encode(), "application/json")
                return
            if args.deny and (args.deny_matching is None or args.deny_matching in f"{self.command} {self.path}"):
                with lock:
                    counts["requests"] += 1
                self.error(403, args.deny)
                return
            what = fate()
            if what == "fail":
                with lock:
                    counts["failed"] += 1
                if rng.random() < 0.5:
                    self.error(500, "InternalError")
                else:
                    self.error(503, "SlowDown")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
            try:
                connection.request(self.command, self.path, body=body if body or length else None, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                response_headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
                status, reason = response.status, response.reason
            finally:
                connection.close()
            head = f"HTTP/1.1 {status} {reason}\r\n".encode()
            head += b"".join(f"{k}: {v}\r\n".encode() for k, v in response_headers)
            if not any(k.lower() == "content-length" for k, _ in response_headers):
                head += f"Content-Length: {len(payload)}\r\n".encode()
            head += b"\r\n"
            if what == "cut":
                with lock:
                    counts["cut"] += 1
                # Half the body; an answer without a body loses all but its first bytes, so the client can
                # only tell that the request may or may not have happened.
                if payload and self.command != "HEAD":
                    self.wfile.write(head + payload[: len(payload) // 2])
                else:
                    self.wfile.write(head[:8])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            with lock:
                counts["forwarded"] += 1
            self.wfile.write(head)
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    # The test that started us may die without stopping us: stdin closing is our cue to go too.
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
