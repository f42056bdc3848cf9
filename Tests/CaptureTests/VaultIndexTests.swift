@testable import Capture
import Foundation
import LibPQ
import Support
import Testing
import Vaulthalla

/// The vault index as the backup reads it: through a cursor in the snapshot, a batch at a time.
@Suite struct VaultIndexTests {
    @Test("the cursor-fetched vault index equals the whole-result one, in order, across batch boundaries")
    func cursorIndexEqualsWholeResult() throws {
        let lab = try CaptureHarness(profile: "small")
        defer { lab.close() }
        let conninfo = try lab.state.database.conninfo
        // The index as it was read before: one query per vault, every row in memory, the formats beside it.
        let db = try VaulthallaDatabase(conninfo: conninfo)
        var formats: [Int64: Int] = [:]
        let rows = try db.connection.query("SELECT fs_entry_id, encryption_format FROM files WHERE encryption_format IS NOT NULL")
        for row in 0..<rows.count { formats[Int64(rows[row, "fs_entry_id"]!)!] = Int(rows[row, "encryption_format"]!)! }
        let vaults = try db.vaults()
        let whole = try vaults.map { vault in
            try db.files(vaultID: vault.id).map { file in
                VaultIndexLine(vault: vault.name, vaultID: vault.id, vaultType: vault.type, path: file.logicalPath,
                               backingPath: file.backingPath, size: file.sizeBytes, iv: file.encryptionIV,
                               keyVersion: file.keyVersion, contentHash: file.contentHash, format: formats[file.fsEntryID])
            }
        }
        let largest = try #require(whole.map(\.count).max())
        #expect(largest > 100 && whole.joined().contains { $0.format != nil })

        let snapshot = try DatabaseSnapshot(.init(conninfo: conninfo))
        defer { snapshot.close() }
        #expect(try snapshot.vaults() == vaults)
        // One row a fetch, a size that splits every vault unevenly, exactly the largest vault, one past it, the default.
        for batch in [1, 7, largest, largest + 1, DatabaseSnapshot.batch] {
            for (vault, expected) in zip(vaults, whole) {
                var lines: [VaultIndexLine] = [], sizes: [Int] = []
                try snapshot.vaultIndex(vault: vault, batch: batch) { part in
                    lines += part
                    sizes.append(part.count)
                }
                #expect(lines == expected, "vault \(vault.name), batch \(batch)")
                #expect(sizes.allSatisfy { $0 > 0 && $0 <= batch }, "vault \(vault.name), batch \(batch): \(sizes)")
            }
        }
        // The snapshot still serves whole-result queries after the cursors (none is left open).
        #expect(try snapshot.recordCounts()["users"] ?? 0 > 0)
        #expect(try snapshot.connection.query("SELECT count(*) AS n FROM pg_cursors WHERE name LIKE 'valkyrie_cursor_%'")[0, "n"] == "0")
    }

    @Test("a failure of the batch reader ends the vault index read with that error, and the snapshot stays usable")
    func readerFailure() throws {
        let lab = try CaptureHarness()
        defer { lab.close() }
        let snapshot = try DatabaseSnapshot(.init(conninfo: try lab.state.database.conninfo))
        defer { snapshot.close() }
        let vault = try #require(try snapshot.vaults().first { !$0.deleted })
        var batches = 0
        #expect(throws: OperatorError.self) {
            try snapshot.vaultIndex(vault: vault, batch: 2) { _ in
                batches += 1
                throw OperatorError.failed("disk full")
            }
        }
        #expect(batches == 1)
        var lines = 0
        try snapshot.vaultIndex(vault: vault, batch: 3) { lines += $0.count }
        #expect(lines > 3)
    }
}
