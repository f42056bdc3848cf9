import CSQLite
import Foundation
import GRDB

/// A value the append path binds to one of its cached statements (`Catalog.execute`). Text is bound from the
/// string's own UTF-8 bytes: GRDB's `String` binding passes the string as a C string, which Swift makes by copying
/// it into a fresh array each time (a tenth of an append's CPU went to binding, most of it those copies).
protocol CatalogBinding {
    func bind(_ statement: SQLiteStatement, at index: CInt) -> CInt
}

extension CatalogBinding where Self: StatementBinding {
    func bind(_ statement: SQLiteStatement, at index: CInt) -> CInt { bind(to: statement, at: index) }
}

extension Int: CatalogBinding {}
extension Int64: CatalogBinding {}
extension Bool: CatalogBinding {}
extension Data: CatalogBinding {}

extension String: CatalogBinding {
    func bind(_ statement: SQLiteStatement, at index: CInt) -> CInt {
        var text = self  // withUTF8 is mutating: a native string lends its storage, a bridged one is made native once
        return text.withUTF8 { valkyrie_sqlite_bind_text(statement, index, $0.baseAddress, CInt($0.count)) }
    }
}

extension Optional: CatalogBinding where Wrapped: CatalogBinding {
    func bind(_ statement: SQLiteStatement, at index: CInt) -> CInt {
        guard let self else { return sqlite3_bind_null(statement, index) }
        return self.bind(statement, at: index)
    }
}

/// UTF-8 bytes bound as text (an event's payload, kept as `Data`), without making a `String` of them first.
struct UTF8Text: CatalogBinding {
    let bytes: Data

    func bind(_ statement: SQLiteStatement, at index: CInt) -> CInt {
        bytes.withUnsafeBytes { valkyrie_sqlite_bind_text(statement, index, $0.bindMemory(to: UInt8.self).baseAddress, CInt($0.count)) }
    }
}
