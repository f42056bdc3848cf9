import CSQLite
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

    /// The 100-byte SQLite header: magic, page size and application id. (Length is SQLite's to judge, under
    /// its locks: a file read while another process checkpoints can look short for a moment.)
    private static func checkHeader(_ path: String, size: Int) throws {
        guard let header = Header(path) else {
            let what = size == 0 ? "is empty" : "is not a SQLite database"
            throw OperatorError.badInput("catalog \(path) \(what), so not a Valkyrie catalog",
                                         remedy: "point --catalog at the Valkyrie catalog (default /var/lib/valkyrie/catalog.db)")
        }
        guard header.pageSize >= 512, header.pageSize & (header.pageSize - 1) == 0 else {
            throw CatalogErrors.damaged(path, "invalid page size \(header.pageSize) in the header")
        }
        let application = Int32(bitPattern: UInt32(header.u32(68)))
        if application != 0 && application != applicationID {
            throw OperatorError.badInput("catalog \(path) is a SQLite database of another application, not a Valkyrie catalog",
                                         remedy: "point --catalog at the Valkyrie catalog (default /var/lib/valkyrie/catalog.db)")
        }
    }

    /// When SQLite has found the file damaged: "truncated: N of M bytes" if its header promises more pages than
    /// the file holds and no WAL could supply them.
    static func truncation(_ path: String) -> String? {
        guard let header = Header(path) else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        let pages = header.u32(28), expected = pages * header.pageSize
        // The page count is valid only while the change counter equals version-valid-for.
        guard pages > 0, header.u32(24) == header.u32(92), wal == 0, size < expected else { return nil }
        return "truncated: \(size) of \(expected) bytes"
    }
}

/// The first 100 bytes of a SQLite file, read through SQLite (see `valkyrie_sqlite_read_prefix`); nil when the
/// file is shorter or lacks the magic string.
private struct Header {
    let bytes: [UInt8]

    init?(_ path: String) {
        var prefix = [UInt8](repeating: 0, count: 100)
        let rc = prefix.withUnsafeMutableBufferPointer { valkyrie_sqlite_read_prefix(path, $0.baseAddress, 100) }
        guard rc == SQLITE_OK, Array(prefix[0..<16]) == Array("SQLite format 3\u{0}".utf8) else { return nil }
        bytes = prefix
    }

    func u32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }

    var pageSize: Int {
        let raw = Int(bytes[16]) << 8 | Int(bytes[17])
        return raw == 1 ? 65536 : raw
    }
}
