import Foundation
import Support

/// Checks made on the catalog file before SQLite opens it, so that a wrong file is refused without being
/// touched: SQLite would happily turn an empty file into a database or a foreign database into a catalog.
enum CatalogFile {
    /// `PRAGMA application_id` of every Valkyrie catalog ("VKYR").
    static let applicationID: Int32 = 0x564B_5952

    /// Returns whether the file exists (and passed); throws `badInput` naming the path otherwise.
    static func check(_ path: String, mode: Catalog.OpenMode) throws -> Bool {
        let fm = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OperatorError.badInput("the catalog's directory \(directory) does not exist (catalog \(path))",
                                         remedy: "create it (mkdir -p \(directory)) or point --catalog at the catalog")
        }
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            guard mode == .create else {
                throw OperatorError.badInput("there is no catalog at \(path)",
                                             remedy: "check --catalog, $VALKYRIE_CATALOG and the config's `catalog`; a backup creates it")
            }
            guard access(directory, W_OK) == 0 else {
                throw OperatorError.badInput("cannot create catalog \(path): \(directory) is not writable",
                                             remedy: "make the directory writable or point --catalog elsewhere")
            }
            return false
        }
        guard !isDirectory.boolValue else {
            throw OperatorError.badInput("catalog \(path) is a directory", remedy: "point --catalog at the catalog file inside it")
        }
        let attributes = try fm.attributesOfItem(atPath: path)
        let permissions = (attributes[.posixPermissions] as? Int) ?? 0
        // Root may write anyway; a file nobody may write was made read-only on purpose, so honour that too.
        if permissions & 0o222 == 0 || access(path, W_OK) != 0 {
            throw OperatorError.badInput("catalog \(path) is read-only",
                                         remedy: "make it writable (chmod u+w \(path)) or point --catalog at a writable copy")
        }
        let size = (attributes[.size] as? Int) ?? 0
        try checkHeader(path, size: size)
        return true
    }

    /// The 100-byte SQLite header: magic, page size, application id, and (when the header's page count is
    /// valid and no WAL could extend the file) that the file is as long as the header says.
    private static func checkHeader(_ path: String, size: Int) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OperatorError.badInput("catalog \(path) cannot be read", remedy: "check its permissions")
        }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 100)) ?? Data())
        let magic = Array("SQLite format 3\u{0}".utf8)
        guard header.count == 100, Array(header[0..<16]) == magic else {
            let what = size == 0 ? "is empty" : "is not a SQLite database"
            throw OperatorError.badInput("catalog \(path) \(what), so not a Valkyrie catalog",
                                         remedy: "point --catalog at the Valkyrie catalog (default /var/lib/valkyrie/catalog.db)")
        }
        func u32(_ at: Int) -> Int { header[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        let rawPageSize = Int(header[16]) << 8 | Int(header[17])
        let pageSize = rawPageSize == 1 ? 65536 : rawPageSize
        guard pageSize >= 512, pageSize & (pageSize - 1) == 0 else {
            throw CatalogErrors.damaged(path, "invalid page size \(rawPageSize) in the header")
        }
        let application = Int32(bitPattern: UInt32(u32(68)))
        if application != 0 && application != applicationID {
            throw OperatorError.badInput("catalog \(path) is a SQLite database of another application, not a Valkyrie catalog",
                                         remedy: "point --catalog at the Valkyrie catalog (default /var/lib/valkyrie/catalog.db)")
        }
        let pages = u32(28), changeCounter = u32(24), validFor = u32(92)
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        if pages > 0, changeCounter == validFor, wal == 0, size < pages * pageSize {
            throw OperatorError.badInput("catalog \(path) is truncated: \(size) of \(pages * pageSize) bytes",
                                         remedy: "restore the file from a copy; `sqlite3 FILE .recover` salvages what is still readable")
        }
    }
}
