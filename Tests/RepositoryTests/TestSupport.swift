import Foundation
@testable import Repository
import Sodium

/// A seeded generator, so "random" inputs are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            let word = next()
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: word >> (8 * i))) }
        }
        return Array(out.prefix(count))
    }
}

/// A folder under /tmp removed when the test is done with it.
final class Scratch {
    let path: String

    init(_ name: String = #function) {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "valkyrie-repo-\(clean)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ name: String) -> String {
        let p = "\(path)/\(name)"
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    func write(_ relative: String, _ data: Data) {
        let p = "\(path)/\(relative)"
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: p, contents: data)
    }
}

enum Fixture {
    static let passphrase = Data("correct horse battery staple".utf8)

    /// A new repository in `folder`, with a cheap passphrase slot.
    static func repository(_ folder: String) async throws -> Repository {
        try await Repository.initialize(backend: LocalBackend(path: folder),
                                        slot: .passphrase(passphrase, cost: .interactive), label: "test")
    }

    static func reopen(_ folder: String) async throws -> Repository {
        try await Repository.open(backend: LocalBackend(path: folder), unlock: [.passphrase(passphrase)])
    }

    /// Stores `source` as a set with one root `item`.
    static func backup(_ repository: Repository, _ source: String, parent: BlobID? = nil) async throws -> (StoredSnapshot, ArchiveResult, WriteStatistics) {
        let writer = try await repository.beginSet()
        let result = try await writer.storeDirectory(at: source, options: ArchiveOptions(parent: parent))
        let set = try await writer.commit(metadata: .object(["host": .string("test")]), roots: ["item": .tree(result.tree)])
        return (set, result, writer.statistics)
    }

    /// Every regular file under `folder`, recursively.
    static func files(under folder: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: folder)
        var out: [String] = []
        while let next = walker?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(folder)/\(next)", isDirectory: &isDir), !isDir.boolValue {
                out.append("\(folder)/\(next)")
            }
        }
        return out.sorted()
    }
}

extension Data {
    init(hex: String) {
        var out = [UInt8]()
        var chars = Array(hex.utf8).makeIterator()
        while let h = chars.next(), let l = chars.next() {
            out.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!)
        }
        self.init(out)
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
