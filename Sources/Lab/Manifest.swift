import Foundation
import Support
import Vaulthalla

/// The lab's ground truth of file contents: for each live file (by fs_entry id), the SHA-256 of its plaintext
/// and its size. SHA-256 rather than BLAKE2b, so the truth does not share code with what it checks.
struct Manifest {
    struct Entry: Equatable {
        var sha256: String
        var size: Int
    }

    var entries: [Int64: Entry] = [:]

    static func digest(_ plaintext: Data) -> String {
        ContentHash.sha256Hex(plaintext)
    }

    static func load(_ path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OperatorError.failed("lab manifest \(path) is missing", remedy: "create the lab host again")
        }
        var manifest = Manifest()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 3, let id = Int64(fields[0]), let size = Int(fields[2]) else { continue }
            manifest.entries[id] = Entry(sha256: String(fields[1]), size: size)
        }
        return manifest
    }

    func save(_ path: String) throws {
        var text = ""
        for id in entries.keys.sorted() {
            let entry = entries[id]!
            text += "\(id)\t\(entry.sha256)\t\(entry.size)\n"
        }
        try writeFile(path, Data(text.utf8), mode: 0o600)
    }
}

/// Appends manifest lines as files are generated, so a large host never holds its manifest in memory.
final class ManifestWriter {
    private let handle: FileHandle
    private var buffer = ""

    init(path: String) throws {
        try writeFile(path, Data(), mode: 0o600)
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw OperatorError.failed("cannot write \(path)")
        }
        self.handle = handle
    }

    func add(id: Int64, plaintext: Data) throws {
        buffer += "\(id)\t\(Manifest.digest(plaintext))\t\(plaintext.count)\n"
        if buffer.utf8.count > 1 << 16 { try flush() }
    }

    func close() throws {
        try flush()
        try handle.close()
    }

    private func flush() throws {
        try handle.write(contentsOf: Data(buffer.utf8))
        buffer = ""
    }
}
