import ArgumentParser
import Catalog
import Foundation
import Restore
import Support

struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List a folder of a set from the catalog (no repository needed).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "SET or SET:PATH (raw path as in the mount, e.g. SET:/etc/vaulthalla; with --vault a logical path).")
    var target: String

    @Option(name: .long, help: "List a vault's logical folder instead of a raw one.")
    var vault: String?

    struct Line: Encodable {
        var path: String
        var kind: String
        var size: Int64
        var mode: String?
        var owner: String?
        var modified: Date?
    }

    func run() async throws {
        let catalog = try global.openCatalog()
        let (setName, rawPath) = Self.split(target)
        let source = SetEntries(catalog: catalog, set: try SetSource.listedSet(setName, in: catalog))
        let path = SetSource.normalized(rawPath)
        var lines: [Line] = []
        if let vault {
            if path != "/" {
                let folder = try source.vaultEntry(vault: vault, path)
                guard folder.entry.kind == .directory else {
                    lines = [Line(path: folder.entry.path, kind: folder.entry.kind.rawValue, size: folder.entry.size)]
                    return emit(lines)
                }
            }
            let entries = try catalog.listVaultDirectory(vault: vault, path, in: source.set)
            if entries.isEmpty && path == "/" { _ = try source.vaultEntry(vault: vault, "/") }
            lines = entries.map { Line(path: $0.entry.path, kind: $0.entry.kind.rawValue, size: $0.entry.size) }
        } else {
            if path != "/" {
                let entry = try source.entry(path)
                if entry.entry.kind != .directory { return emit([Self.line(entry.entry)]) }
            }
            lines = try catalog.listDirectory(path, in: source.set).map { Self.line($0.entry) }
        }
        emit(lines)
    }

    private func emit(_ lines: [Line]) {
        global.output.emit(lines) {
            var table = Table("MODE", "OWNER", "SIZE", "MODIFIED (UTC)", "PATH")
            for line in lines {
                table.add(line.mode ?? "-", line.owner ?? "-", HumanFormat.bytes(line.size), HumanFormat.time(line.modified),
                          line.path + (line.kind == "directory" ? "/" : ""))
            }
            return table.rendered
        }
    }

    static func line(_ entry: FileEntry) -> Line {
        Line(path: entry.path, kind: entry.kind.rawValue, size: entry.size, mode: String(entry.mode & 0o7777, radix: 8),
             owner: "\(entry.uid):\(entry.gid)",
             // Folders above the items' roots are made up by the index (no time of their own).
             modified: entry.mtimeNanoseconds == 0 ? nil : Date(timeIntervalSince1970: Double(entry.mtimeNanoseconds) / 1e9))
    }

    /// `SET:PATH` -> (SET, PATH); a bare SET lists its top.
    static func split(_ target: String) -> (String, String) {
        guard let colon = target.firstIndex(of: ":") else { return (target, "/") }
        return (String(target[..<colon]), String(target[target.index(after: colon)...]))
    }
}
