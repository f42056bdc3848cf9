#if canImport(Glibc)
import Glibc
#endif
import CPOSIX
import Foundation
import Support

/// One outgoing TCP connection with a non-blocking socket: every wait (connect, each read, each write) is a
/// `poll` bounded by `stallTimeout` that a `CancelSignal` from another thread ends at once.
public final class TCPConnection {
    /// The socket, for a TLS layer that drives it itself (and waits with `wait(for:)`).
    public let descriptor: Int32
    public let stallTimeout: Duration
    private let cancel: CancelSignal
    private var closed = false

    private init(descriptor: Int32, stallTimeout: Duration, cancel: CancelSignal) {
        self.descriptor = descriptor
        self.stallTimeout = stallTimeout
        self.cancel = cancel
    }

    deinit { close() }

    /// Resolves `host` (IPv4 and IPv6) and connects to the first address that answers, each attempt bounded by
    /// `stallTimeout`; the last address's failure is thrown when none does.
    public static func connect(host: String, port: Int, stallTimeout: Duration, cancel: CancelSignal) throws -> TCPConnection {
        _ = brokenPipesAreErrors
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let kind: NetworkError.Kind = status == EAI_AGAIN ? .nameTemporarilyUnresolved : .nameNotFound
            let detail = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw NetworkError(kind: kind, detail: "cannot resolve \(host): \(detail)")
        }
        defer { freeaddrinfo(first) }
        var failure = NetworkError(kind: .other, detail: "no address for \(host)")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry?.pointee {
            entry = address.ai_next
            if cancel.isCancelled { throw NetworkError(kind: .cancelled, detail: "cancelled") }
            let fd = socket(address.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                            address.ai_protocol)
            guard fd >= 0 else {
                failure = NetworkError(errno: errno, doing: "cannot open a socket")
                continue
            }
            let connection = TCPConnection(descriptor: fd, stallTimeout: stallTimeout, cancel: cancel)
            do {
                try connection.finishConnect(address.ai_addr, address.ai_addrlen, host: host, port: port)
                // Headers and body go out in separate writes: Nagle would hold the body back for the server's ACK.
                var on: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                return connection
            } catch let error as NetworkError where error.kind != .cancelled {
                failure = error
            }
        }
        throw failure
    }

    private func finishConnect(_ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t, host: String, port: Int) throws {
        if Glibc.connect(descriptor, address, length) != 0 {
            guard errno == EINPROGRESS else { throw NetworkError(errno: errno, doing: "cannot connect to \(host):\(port)") }
            try wait(for: .write)
            var error: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &size)
            guard error == 0 else { throw NetworkError(errno: error, doing: "cannot connect to \(host):\(port)") }
        }
    }

    public enum Direction { case read, write }

    /// Waits until the socket can be read or written: `.timedOut` after `stallTimeout` without progress,
    /// `.cancelled` as soon as the cancel signal fires.
    public func wait(for direction: Direction) throws {
        let events = Int16(direction == .read ? POLLIN : POLLOUT)
        var fds = [pollfd(fd: descriptor, events: events, revents: 0), pollfd(fd: cancel.descriptor, events: Int16(POLLIN), revents: 0)]
        let (seconds, attoseconds) = stallTimeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        while true {
            let ready = poll(&fds, 2, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw NetworkError(errno: errno, doing: "poll failed")
            }
            if fds[1].revents != 0 { throw NetworkError(kind: .cancelled, detail: "cancelled") }
            if ready == 0 { throw NetworkError(kind: .timedOut, detail: "no progress for \(stallTimeout)") }
            // Errors and hang-ups are ready too: the next read or write reports them.
            return
        }
    }

    /// Writes all of `data`.
    public func send(_ data: Data) throws {
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress! + offset, data.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 {
                offset += n
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(for: .write)
            } else if errno != EINTR {
                throw NetworkError(errno: errno, doing: "send failed")
            }
        }
    }

    /// Up to `count` bytes as soon as any arrive; empty when the peer closed the connection.
    public func receive(upTo count: Int) throws -> Data {
        var buffer = Data(count: count)
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in recv(descriptor, raw.baseAddress!, count, 0) }
            if n >= 0 {
                buffer.count = n
                return buffer
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(for: .read)
            } else if errno != EINTR {
                throw NetworkError(errno: errno, doing: "receive failed")
            }
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(descriptor)
    }

    /// A peer that closed its end must give this process EPIPE, not a fatal SIGPIPE (OpenSSL writes to the socket
    /// with plain `write`, which has no MSG_NOSIGNAL).
    private static let brokenPipesAreErrors: Void = { signal(SIGPIPE, SIG_IGN) }()
}

/// Ends a connection's waits from another thread (a task's cancellation handler): an eventfd that `poll` watches
/// beside the socket. It stays open as long as the signal lives, so a late `cancel()` never touches a reused descriptor.
public final class CancelSignal: Sendable {
    let descriptor: Int32

    public init() throws {
        descriptor = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        guard descriptor >= 0 else { throw NetworkError(errno: errno, doing: "cannot create an eventfd") }
    }

    deinit { Glibc.close(descriptor) }

    public func cancel() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, 8)
    }

    public var isCancelled: Bool {
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        return poll(&fds, 1, 0) > 0
    }
}

/// Why a connection failed, classified so callers can tell "try again" from "give up".
public struct NetworkError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case nameNotFound, nameTemporarilyUnresolved, refused, reset, unreachable, timedOut, cancelled, other
    }

    public var kind: Kind
    /// One line: what failed and the system's words for it.
    public var detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    init(errno code: Int32, doing what: String) {
        let kind: Kind = switch code {
        case ECONNREFUSED: .refused
        case ECONNRESET, EPIPE, ECONNABORTED, ENOTCONN: .reset
        case ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN: .unreachable
        case ETIMEDOUT: .timedOut
        default: .other
        }
        self.init(kind: kind, detail: "\(what): \(String(cString: strerror(code)))")
    }

    public var description: String { detail }
}
