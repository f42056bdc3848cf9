// The repository's write-path benchmark, and the writer the crash tests kill.
//
//   repository-bench throughput [--mib N] [--dir DIR]   read+chunk+hash+compress+encrypt+pack+write, both kinds
//                                                        of data, then the index memory per blob
//   repository-bench write REPO SOURCE [PACK_KIB]       stores SOURCE as one set in REPO ($VALKYRIE_PASSWORD),
//                                                        printing the set id and statistics as JSON
//   repository-bench references [--mib N]               one core's SHA-256, AES-256-GCM and zstd-3 MiB/s, as JSON
import Foundation
import POSIX
import Repository
import Sodium
import Support

@main
enum RepositoryBench {
    /// One result line, written at once (stdout is a file or pipe when the bench is logged).
    static func report(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch arguments.first {
            case "throughput":
                arguments.removeFirst()
                try await throughput(mib: Int(option("--mib", arguments) ?? "") ?? 2048,
                                     directory: option("--dir", arguments) ?? NSTemporaryDirectory())
            case "references":
                try references(mib: Int(option("--mib", arguments) ?? "") ?? 512)
            case "write" where arguments.count == 3 || arguments.count == 4:
                try await write(repository: arguments[1], source: arguments[2],
                                packSize: arguments.count == 4 ? (Int(arguments[3]) ?? 16 << 10) << 10 : 16 << 20)
            default:
                FileHandle.standardError.write(Data("usage: repository-bench throughput [--mib N] [--dir DIR] | write REPO SOURCE [PACK_KIB] | references [--mib N]\n".utf8))
                exit(2)
            }
        } catch {
            FileHandle.standardError.write(Data("repository-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func option(_ name: String, _ arguments: [String]) -> String? {
        arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }

    static func write(repository path: String, source: String, packSize: Int) async throws {
        let passphrase = Data((ProcessInfo.processInfo.environment["VALKYRIE_PASSWORD"] ?? "").utf8)
        let backend = LocalBackend(path: path)
        let repo = try await (try await backend.size("config")) == nil
            ? Repository.initialize(backend: backend, slot: .passphrase(passphrase, cost: .interactive), label: "bench")
            : Repository.open(backend: backend, unlock: [.passphrase(passphrase)])
        let writer = try await repo.beginSet(packSize: packSize)
        let result = try await writer.storeDirectory(at: source)
        // The prune tests hold a backup between storing its data and committing its set: "stored" on stderr,
        // then one line on stdin lets it commit.
        if ProcessInfo.processInfo.environment["VALKYRIE_WRITER_HOLD"] != nil {
            FileHandle.standardError.write(Data("stored\n".utf8))
            _ = readLine()
        }
        let set = try await writer.commit(metadata: .object(["source": .string(source)]), roots: ["source": .tree(result.tree)])
        struct Report: Encodable { let set: String; let statistics: WriteStatistics }
        report(String(decoding: try JSONFormat.encoder().encode(Report(set: set.id.hex, statistics: writer.statistics)), as: UTF8.self))
    }

    static func throughput(mib: Int, directory: String) async throws {
        let work = (directory as NSString).appendingPathComponent("repository-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: work) }
        report("Valkyrie write path, \(mib) MiB per kind, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        for kind in ["incompressible", "compressible"] {
            let source = "\(work)/\(kind)"
            try makeData(kind: kind, at: source, mib: mib)
            let backend = LocalBackend(path: "\(work)/repo-\(kind)")
            let repo = try await Repository.initialize(backend: backend, slot: .passphrase(Data("bench".utf8), cost: .interactive), label: "bench")
            let start = Date()
            let writer = try await repo.beginSet()
            let result = try await writer.storeDirectory(at: source)
            _ = try await writer.commit(metadata: .null, roots: [kind: .tree(result.tree)])
            let seconds = Date().timeIntervalSince(start)
            let stats = writer.statistics
            report(String(format: "%-15@ %8.1f MiB/s  %6.1f s  %5d blobs  stored %.1f%% of input",
                         kind as NSString, Double(mib) / seconds, seconds, stats.blobs,
                         100 * Double(stats.storedBytes) / Double(stats.bytes)))
            // A second run of the same data: all dedup, so this is the read+chunk+hash path alone.
            let again = Date()
            let second = try await repo.beginSet()
            _ = try await second.storeDirectory(at: source)
            report(String(format: "%-15@ %8.1f MiB/s  unchanged data again (chunk+hash, nothing new)",
                         kind as NSString, Double(mib) / Date().timeIntervalSince(again)))
            try FileManager.default.removeItem(atPath: source)
            try FileManager.default.removeItem(atPath: backend.location)
        }
        try await indexMemory(work: work)
    }

    /// Writes 1 MiB blocks: random bytes, or text-like lines from a small vocabulary (compresses ~3-4x).
    static func makeData(kind: String, at folder: String, mib: Int) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let words = ["vault", "key", "rotation", "backup", "share", "policy", "tenant", "object", "bucket", "sync",
                     "2026-11-29", "ERROR", "INFO", "user", "group", "role", "upload", "download", "aes", "gcm"]
        var generator = SystemRandomNumberGenerator()
        let fileMiB = 256
        for file in 0..<max(1, mib / fileMiB) {
            _ = FileManager.default.createFile(atPath: "\(folder)/\(file).bin", contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/\(file).bin"))
            for _ in 0..<min(fileMiB, mib) {
                if kind == "incompressible" {
                    try handle.write(contentsOf: Sodium.randomBytes(1 << 20))
                } else {
                    var text = ""
                    text.reserveCapacity(1 << 20)
                    while text.utf8.count < (1 << 20) - 64 {
                        text += "\(Int.random(in: 0..<1_000_000, using: &generator)) "
                        for _ in 0..<6 { text += words.randomElement(using: &generator)! + " " }
                        text += "\n"
                    }
                    try handle.write(contentsOf: Data(text.utf8))
                }
            }
            try handle.close()
        }
    }

    /// Index memory per blob: resident memory of opening a repository whose index holds 1M blobs.
    static func indexMemory(work: String) async throws {
        let count = 1_000_000
        let backend = LocalBackend(path: "\(work)/repo-index")
        let repo = try await Repository.initialize(backend: backend, slot: .passphrase(Data("bench".utf8), cost: .interactive), label: "bench")
        let writer = try await repo.beginSet()
        for i in 0..<count {
            try await writer.save(Data((0..<8).map { UInt8(truncatingIfNeeded: i >> ($0 * 8)) }), type: .data)
        }
        try await writer.writeIndex()
        let before = residentBytes()
        let reopened = try await Repository.open(backend: backend, unlock: [.passphrase(Data("bench".utf8))])
        let after = residentBytes()
        report(String(format: "index memory    %8.1f bytes per blob (%d blobs, %.1f MiB resident)",
                     Double(after - before) / Double(reopened.blobCount), reopened.blobCount,
                     Double(after - before) / 1_048_576))
    }

    static func residentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}
