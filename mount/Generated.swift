import Catalog
import FUSE
import Foundation
import Support

/// The files the mount writes itself: README.txt, each set's set.json, the drill reports.
extension MountFilesystem {
    static let readme = Data("""
        Valkyrie recovery sets, read-only.

        latest                  the newest complete set
        sets/<UTC time>_<host>/ every complete set; incomplete/ holds partial ones
        hosts/<host>/<set>      the sets of one host
        drills/                 restore drill reports (.md and .json)

        Inside a set:
          set.json              what the set is: versions, TPM mode, recipient, coherence, last drill
          postgres/             vaulthalla.dump (pg_dump -Fc) and its pg_restore --list table of contents
          etc/vaulthalla/  var/lib/vaulthalla/  var/lib/swtpm/vaulthalla/   as captured (owners, modes)
          exports/  keys/<vault>.json.asc   armored key exports (root only; copy one out to restore a key)
          s3/<vault>/<key>      S3 vault objects, user metadata as user.* xattrs
          vaults/<vault>/<path> vault files by Vaulthalla's names: plaintext when mounted with --unlock or
                                --keys FILE, otherwise reads fail with "Permission denied"

        Key material (keys/, exports/, swtpm state, .sealed_*) is readable by root only, and opening it is
        recorded in the catalog. Unmount with `fusermount3 -u MOUNTPOINT` or Ctrl-C on `valkyrie mount`.

        """.utf8)

    /// set.json: the version record of the set with the catalog's view of it.
    func setJSON(_ set: SetInfo) throws -> Data {
        let record = set.record
        let drills = try catalog.details(of: record).drills
        var document: [String: Any] = [
            "name": record.name, "id": record.id.uuidString, "host": record.host, "ordinal": record.ordinal,
            "status": record.status.rawValue, "started_at": UTCTime.string(record.startedAt),
            "valkyrie_version": record.valkyrieVersion, "size": record.size, "warnings": record.warnings,
            "items": set.details.items.map { ["item": $0.item, "size": $0.size, "files": $0.files,
                                              "key_material": $0.keyMaterial, "warnings": $0.warnings] as [String: Any] },
            "exports": set.details.exports.map { ["export": $0.export, "vaults": $0.vaults, "recipients": $0.recipients] as [String: Any] },
        ]
        if let finished = record.finishedAt { document["finished_at"] = UTCTime.string(finished) }
        // The backup's coherence check of the vault index against the bodies: its mismatches are the set's own warnings.
        document["coherence"] = ["result": record.warnings.isEmpty ? "coherent" : "mismatches", "mismatches": record.warnings] as [String: Any]
        if let last = drills.last {
            var drill: [String: Any] = ["id": last.id.uuidString, "status": last.status.rawValue, "passed": last.passed,
                                        "failed": last.failed, "started_at": UTCTime.string(last.startedAt)]
            if let finished = last.finishedAt { drill["finished_at"] = UTCTime.string(finished) }
            document["last_drill"] = drill
        }
        if let version = try versionRecord(set) { document["version"] = version }
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) + Data("\n".utf8)
    }

    /// The set's `valkyrie/version.json` as JSON (as text if it does not parse), nil when the set has none.
    func versionRecord(_ set: SetInfo) throws -> Any? {
        guard let version = try fileEntry("/valkyrie/version.json", in: set), let node = try resolve(version) else { return nil }
        let repository = self.repository
        let bytes = try blocking { try await repository.read(node, offset: 0, length: Int(node.size)) }
        return (try? JSONSerialization.jsonObject(with: bytes)) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// The key version a vault's export in this set holds, from the version record (0 when it does not say).
    func exportedKeyVersion(of vault: String, in set: SetInfo) -> Int {
        let vaults = ((try? versionRecord(set)) as? [String: Any])?["vaults"] as? [[String: Any]]
        return vaults?.first { $0["name"] as? String == vault }?["currentKeyVersion"] as? Int ?? 0
    }

    func drillReport(set id: UUID, drill: UUID, json: Bool) throws -> Data {
        let set = try info(id)
        guard let record = try catalog.details(of: set.record).drills.first(where: { $0.id == drill }) else { throw FUSEError(ENOENT) }
        if json { return try JSONFormat.encoder(pretty: true).encode(record) + Data("\n".utf8) }
        var lines = ["# Drill \(record.id.uuidString) of \(set.record.name)", "",
                     "Status: \(record.status.rawValue), \(record.passed) checks passed, \(record.failed) failed.",
                     "Started \(UTCTime.string(record.startedAt))" + (record.finishedAt.map { ", finished \(UTCTime.string($0))" } ?? "") + ".",
                     "", "| check | result | evidence |", "|---|---|---|"]
        for check in record.checks {
            lines.append("| \(check.name) | \(check.passed ? "passed" : "FAILED") | \(check.evidence.replacingOccurrences(of: "|", with: "\\|")) |")
        }
        return Data((lines.joined(separator: "\n") + "\n").utf8)
    }
}
