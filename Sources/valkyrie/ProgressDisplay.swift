import Capture
import Foundation
import Synchronization

/// One status line on a terminal's stderr (items, files, bytes, rate, ETA), redrawn at most 5 times a second.
final class ProgressDisplay: Sendable {
    let enabled: Bool
    private let lastDraw = Mutex(Date.distantPast)
    /// Bytes the previous set of this host held, for the ETA (unknown on a first backup).
    let expectedBytes: Int64?

    init(enabled: Bool, expectedBytes: Int64? = nil) {
        self.enabled = enabled
        self.expectedBytes = expectedBytes
    }

    func show(_ state: CaptureProgress.State) {
        guard enabled else { return }
        let now = Date()
        guard lastDraw.withLock({ last in
            guard now.timeIntervalSince(last) >= 0.2 else { return false }
            last = now
            return true
        }) else { return }
        let elapsed = max(now.timeIntervalSince(state.started), 0.001)
        let rate = Double(state.bytes) / elapsed
        var eta = ""
        if let expectedBytes, rate > 0, expectedBytes > state.bytes {
            eta = ", ETA \(Int(Double(expectedBytes - state.bytes) / rate)) s"
        }
        let line = "item \(min(state.items + 1, max(state.itemsTotal, 1)))/\(state.itemsTotal) \(state.currentItem): "
            + "\(state.files) files, \(BackupCommand.bytes(state.bytes)), \(BackupCommand.bytes(Int64(rate)))/s\(eta)"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// SIGINT and SIGTERM delivered to a handler on a queue of its own (not in signal context), for as long as kept.
final class SignalHandlers: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "valkyrie-signals")
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
