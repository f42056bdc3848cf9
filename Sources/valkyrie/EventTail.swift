import Catalog
import Foundation
import Support
import Synchronization

/// Follows the catalog while a command runs and logs each event it appends as one line (`backup.item-captured
/// set=... item=postgres files=1 size=...`), so a journal shows a long backup step by step. Scalar,
/// single-line payload fields only; --verbose adds the whole payload. Payloads hold no key material (catalog rule).
final class EventTail: Sendable {
    private let log: Log
    private let catalogPath: String
    private let since: Date
    private struct State {
        var catalog: Catalog?
        var lastSeq: Int64 = 0
        var setNames: [UUID: String] = [:]
    }
    private let state = Mutex(State())
    private let poller = Mutex<Task<Void, Never>?>(nil)

    init(log: Log, catalogPath: String, since: Date) {
        self.log = log
        self.catalogPath = catalogPath
        // Catalog times have microseconds; a second of slack never repeats a line (seq is tracked).
        self.since = since.addingTimeInterval(-1)
    }

    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                flush()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        poller.withLock { $0 = task }
    }

    /// Stops following, after logging whatever was appended up to now.
    func stop() async {
        let task = poller.withLock { task in defer { task = nil }; return task }
        task?.cancel()
        await task?.value
        flush()
    }

    private func flush() {
        state.withLock { state in
            if state.catalog == nil {
                // The command may create the catalog (a first backup); until then there is nothing to follow.
                guard FileManager.default.fileExists(atPath: catalogPath) else { return }
                state.catalog = try? Catalog.open(at: catalogPath, mode: .existing)
            }
            guard let catalog = state.catalog,
                  let events = try? catalog.events(EventFilter(since: since)) else { return }
            for event in events where event.seq > state.lastSeq {
                state.lastSeq = event.seq
                var pairs: [(String, String)] = []
                if let set = event.set {
                    if state.setNames[set] == nil { state.setNames[set] = (try? catalog.set(set.uuidString))?.name }
                    pairs.append(("set", state.setNames[set] ?? set.uuidString))
                }
                if case let .object(members) = event.payloadJSON {
                    for (key, value) in members.sorted(by: { $0.key < $1.key }) where key != "set" {
                        switch value {
                        // Structure and documents (a drill's Markdown report) are detail: one journal line stays short.
                        case .array, .object: if log.verbose { pairs.append((key, value.compactText)) }
                        case let .string(text) where text.contains("\n"): if log.verbose { pairs.append((key, value.compactText)) }
                        case .null: continue
                        default: pairs.append((key, value.compactText))
                        }
                    }
                }
                log.line("\(event.type.rawValue) \(Log.fields(pairs))", level: Self.level(event))
            }
        }
    }

    private static func level(_ event: StoredEvent) -> Log.Level {
        switch event.type {
        case .backupFailed: return .error
        case .drillCheck, .drillCompleted:
            if case let .object(members) = event.payloadJSON, members["passed"] == .bool(false) { return .warning }
            return .info
        default: return .info
        }
    }
}
