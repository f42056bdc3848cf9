import Foundation
import Support

/// A read-write file in the temporary folder (TMPDIR) that has no name: it is unlinked as soon as it is open,
/// so nothing is left behind, also after a crash. For what a backup of many files would otherwise hold in
/// memory (index entries, the vault index's JSON lines); never for key material.
enum TemporaryFile {
    static func open() throws -> FileHandle {
        let folder = FileManager.default.temporaryDirectory.path
        let path = "\(folder)/valkyrie-\(UUID().uuidString)"
        let descriptor = Foundation.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw OperatorError.failed("cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))",
                                       remedy: "check that the temporary folder (TMPDIR) exists, is writable and has free space")
        }
        unlink(path)
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }
}
