import Foundation
import Repository
import Support

/// Vault-index lines (`valkyrie/vault-index.jsonl`) without Foundation's coder: the bytes `JSONFormat.encoder()`
/// writes for a `VaultIndexLine` (sorted keys, absent optionals left out), written and read directly. A backup
/// encodes every line of the host's vault index and reads the previous set's; Foundation's coder, boxing every
/// value, was most of that step.
///
/// Reading takes the shape this writer writes; a line with anything else (escapes, whitespace, nulls, unknown or
/// repeated keys) is left to Foundation's decoder, as is its refusal.
enum VaultIndexJSON {
    static func encode(_ line: VaultIndexLine) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(line, to: &out)
        return Data(out)
    }

    /// Members in the order of their keys, as `.sortedKeys` writes them.
    static func append(_ line: VaultIndexLine, to out: inout [UInt8]) {
        var first = true
        func key(_ name: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: "\":".utf8)
        }
        func number(_ value: some BinaryInteger) { out.append(contentsOf: String(value).utf8) }
        out.append(UInt8(ascii: "{"))
        key("backingPath"); JSONFormat.appendString(line.backingPath, to: &out)
        if let contentHash = line.contentHash { key("contentHash"); JSONFormat.appendString(contentHash, to: &out) }
        if let format = line.format { key("format"); number(format) }
        if let verified = line.hashVerified { key("hashVerified"); out.append(contentsOf: (verified ? "true" : "false").utf8) }
        if let iv = line.iv { key("iv"); JSONFormat.appendString(iv, to: &out) }
        if let keyVersion = line.keyVersion { key("keyVersion"); number(keyVersion) }
        key("path"); JSONFormat.appendString(line.path, to: &out)
        key("size"); number(line.size)
        key("vault"); JSONFormat.appendString(line.vault, to: &out)
        key("vaultID"); number(line.vaultID)
        key("vaultType"); JSONFormat.appendString(line.vaultType, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Calls `visit` with every line of a JSONL document that decodes (a line that does not is left out, as
    /// before this coder), one line's bytes copied at a time: the document is never copied whole.
    static func forEachLine(_ data: Data, _ visit: (VaultIndexLine) -> Void) {
        JSONLines.forEach(in: data) { text in
            let bytes = Array(text)
            if let line = decode(bytes, from: 0, to: bytes.count) { visit(line) }
        }
    }

    /// One line, or nil where Foundation refuses it too.
    static func decode(_ bytes: [UInt8], from start: Int, to end: Int) -> VaultIndexLine? {
        var scanner = JSONScanner(bytes, from: start, to: end)
        if let line = try? read(&scanner), scanner.atEnd { return line }
        return try? JSONFormat.decoder().decode(VaultIndexLine.self, from: Data(bytes[start..<end]))
    }

    private static let keys: [String: UInt16] = Dictionary(uniqueKeysWithValues: [
        "backingPath", "contentHash", "format", "hashVerified", "iv", "keyVersion", "path", "size", "vault", "vaultID", "vaultType",
    ].enumerated().map { ($1, UInt16(1) << UInt16($0)) })

    private static func read(_ scanner: inout JSONScanner) throws -> VaultIndexLine {
        try scanner.expect(UInt8(ascii: "{"))
        var backingPath: String?, path: String?, size: Int64?, vault: String?, vaultID: Int?, vaultType: String?
        var contentHash: String?, format: Int?, hashVerified: Bool?, iv: String?, keyVersion: Int?
        var seen: UInt16 = 0
        repeat {
            let key = try scanner.key()
            // A repeated key is Foundation's to judge.
            guard let bit = keys[key], seen & bit == 0 else { throw JSONScanner.Unhandled() }
            seen |= bit
            switch key {
            case "backingPath": backingPath = try scanner.string()
            case "contentHash": contentHash = try scanner.string()
            case "format": format = try int(&scanner)
            case "hashVerified": hashVerified = try scanner.bool()
            case "iv": iv = try scanner.string()
            case "keyVersion": keyVersion = try int(&scanner)
            case "path": path = try scanner.string()
            case "size": size = try scanner.signed()
            case "vault": vault = try scanner.string()
            case "vaultID": vaultID = try int(&scanner)
            case "vaultType": vaultType = try scanner.string()
            default: throw JSONScanner.Unhandled()
            }
        } while try scanner.take(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"))
        guard let backingPath, let path, let size, let vault, let vaultID, let vaultType else { throw JSONScanner.Unhandled() }
        return VaultIndexLine(vault: vault, vaultID: vaultID, vaultType: vaultType, path: path, backingPath: backingPath, size: size,
                              iv: iv, keyVersion: keyVersion, contentHash: contentHash, format: format, hashVerified: hashVerified)
    }

    private static func int(_ scanner: inout JSONScanner) throws -> Int {
        guard let value = Int(exactly: try scanner.signed()) else { throw JSONScanner.Unhandled() }
        return value
    }
}
