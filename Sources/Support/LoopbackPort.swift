import Foundation

/// Free TCP ports on 127.0.0.1, for the services Valkyrie starts on this machine only (swtpm, scratch servers).
public enum LoopbackPort {
    /// A free port P whose neighbour P+1 is free too: swtpm's TCTI expects its control port at P+1.
    public static func freePair() throws -> Int {
        for _ in 0..<100 {
            let (socket, port) = try bound(to: 0)
            defer { close(socket) }
            guard port < 65535, let (neighbour, _) = try? bound(to: port + 1) else { continue }
            close(neighbour)
            return port
        }
        throw OperatorError.failed("no free pair of loopback ports found", remedy: "free some local ports and retry")
    }

    /// A socket bound to 127.0.0.1:`port` (0: any free port) and the port it got.
    private static func bound(to port: Int) throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw OperatorError.failed("cannot open a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else {
            close(fd)
            throw OperatorError.failed("cannot bind 127.0.0.1:\(port)")
        }
        var actual = sockaddr_in()
        var actualLength = length
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }
}
