import Foundation
import POSIX
import Vaulthalla

/// Compares every body on disk with the vault index of the database snapshot: present, size = plaintext + 16
/// for encrypted bodies, and (when enabled) BLAKE2b of the ciphertext = `files.content_hash`.
struct Coherence {
    let dataDirectory: String
    let verifyHashes: Bool

    /// One line per file that does not match, naming vault, logical path and body; and, by position in `index`,
    /// whether the body's BLAKE2b matched (a flag per line, not a set of a million paths). `alreadyHashed` says
    /// which bodies need no hashing: the same content with the same expected hash matched in the previous set.
    /// `read` gives the size and hash of a body as the backup read it, which is used instead of reading the body
    /// again while its size is unchanged.
    func check(_ index: [VaultIndexLine], alreadyHashed: (VaultIndexLine) -> Bool = { _ in false },
               read: (String) -> (size: Int64, hex: String)? = { _ in nil }) -> (problems: [String], hashed: [Bool]) {
        var problems: [String] = []
        var hashed = [Bool](repeating: false, count: index.count)
        for (position, line) in index.enumerated() {
            let body = "\(dataDirectory)/\(line.backingPath)"
            let name = "\(line.vault):\(line.path) (body \(line.backingPath))"
            guard let status = try? POSIX.lstat(body), status.kind == .file else {
                problems.append("\(name): body is missing")
                continue
            }
            guard status.size == line.expectedBodySize else {
                problems.append("\(name): body is \(status.size) bytes, the database expects \(line.expectedBodySize)")
                continue
            }
            guard verifyHashes, let expected = line.contentHash, !expected.isEmpty else { continue }
            if alreadyHashed(line) {
                hashed[position] = true
                continue
            }
            do {
                let actual: String
                if let walked = read(line.backingPath), walked.size == status.size { actual = walked.hex } else {
                    actual = try ContentHash.hex(ofFileAt: body)
                }
                if actual == expected.lowercased() {
                    hashed[position] = true
                } else {
                    problems.append("\(name): BLAKE2b \(actual.prefix(16))… differs from files.content_hash \(expected.prefix(16))…")
                }
            } catch {
                problems.append("\(name): cannot read the body to hash it")
            }
        }
        return (problems, hashed)
    }
}
