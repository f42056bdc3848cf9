import Foundation
import LibPQ

/// SQL literals for the lab's generated rows (never operator input), so rows can go in as multi-row INSERTs.
enum SQL {
    static func text(_ value: String?) -> String {
        guard let value else { return "NULL" }
        return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func int<T: BinaryInteger>(_ value: T?) -> String {
        value.map { String($0) } ?? "NULL"
    }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }
}

/// Collects rows of one table and sends them in batches, after the batches its rows reference.
final class BatchInsert {
    private let connection: PGConnection
    private let head: String
    private let after: [BatchInsert]
    private var rows: [String] = []

    init(_ connection: PGConnection, _ head: String, after: [BatchInsert] = []) {
        self.connection = connection
        self.head = head
        self.after = after
    }

    func add(_ values: String...) throws {
        rows.append("(" + values.joined(separator: ",") + ")")
        if rows.count >= 500 { try flush() }
    }

    func flush() throws {
        guard !rows.isEmpty else { return }
        for batch in after { try batch.flush() }
        try connection.execute("INSERT INTO \(head) VALUES " + rows.joined(separator: ","))
        rows.removeAll(keepingCapacity: true)
    }
}
