import Foundation
import Support

/// The drill's temp folder: `valkyrie-drill-<id>` (0711, so the postgres user can reach its own `pg` folder
/// inside), with `set/` (0700: the dump, the swtpm state) for what only root may read. Removed by `remove()`.
final class ScratchFolder: Sendable {
    let path: String
    var setFolder: String { "\(path)/set" }

    init(parent: String, id: UUID) throws {
        path = "\((parent as NSString).standardizingPath)/valkyrie-drill-\(id.uuidString.prefix(8).lowercased())"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o711])
            try FileManager.default.createDirectory(atPath: setFolder, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw OperatorError.failed("cannot make the drill's scratch folder \(path): \(error.localizedDescription)",
                                       remedy: "check that \(parent) exists and is writable")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
