import Foundation
import GRDB
import Support

/// Turns SQLite failures into operator errors that name the catalog file and say what to do.
enum CatalogErrors {
    static func mapping<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw operatorError(error, path: path)
        }
    }

    static func operatorError(_ error: DatabaseError, path: String) -> OperatorError {
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return damaged(path, CatalogFile.truncation(path) ?? detail)
        case .SQLITE_READONLY:
            return .badInput("catalog \(path) cannot be written (\(detail))",
                             remedy: "make the file and its directory writable, or point --catalog at a writable copy")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return .badInput("catalog \(path) cannot be opened (\(detail))",
                             remedy: "check the path and its permissions")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .failed("catalog \(path) stayed locked by another process (\(detail))",
                           remedy: "retry when the other valkyrie command has finished")
        case .SQLITE_FULL:
            return .failed("catalog \(path): disk full", remedy: "free space on its filesystem and retry")
        default:
            return .failed("catalog \(path): \(detail)", remedy: nil)
        }
    }

    static func damaged(_ path: String, _ detail: String) -> OperatorError {
        .badInput("catalog \(path) is damaged: \(detail)",
                  remedy: "restore the file from a copy; `sqlite3 FILE .recover` salvages what is still readable")
    }
}
