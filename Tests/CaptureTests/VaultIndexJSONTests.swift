@testable import Capture
import Foundation
@testable import Lab
import Support
import Testing

/// The vault-index line coder writes Foundation's bytes (each line's digest is its catalog version, and the file is
/// stored as a patch on the previous set's: a different byte would mark every vault file changed) and reads back
/// what Foundation reads.
@Suite struct VaultIndexJSONTests {
    @Test func knownVector() throws {
        let line = VaultIndexLine(vault: "Team Ünterlagen", vaultID: 2, vaultType: "local", path: "/a/\"q\"\\é\n.txt",
                                  backingPath: "C1XMC6_R/AB12", size: 1234, iv: "00ff", keyVersion: 3,
                                  contentHash: "ab" + String(repeating: "0", count: 62), format: 1, hashVerified: true)
        let expected = #"{"backingPath":"C1XMC6_R/AB12","contentHash":"ab"# + String(repeating: "0", count: 62)
            + #"","format":1,"hashVerified":true,"iv":"00ff","keyVersion":3,"path":"/a/\"q\"\\é\n.txt","size":1234,"#
            + #""vault":"Team Ünterlagen","vaultID":2,"vaultType":"local"}"#
        #expect(String(decoding: VaultIndexJSON.encode(line), as: UTF8.self) == expected)
        #expect(try JSONFormat.encoder().encode(line) == Data(expected.utf8))
        #expect(Self.lines(Data(expected.utf8)) == [line])

        let bare = VaultIndexLine(vault: "s", vaultID: 7, vaultType: "s3", path: "/k", backingPath: "B", size: -1,
                                  iv: nil, keyVersion: nil, contentHash: nil, format: nil, hashVerified: false)
        let bareJSON = #"{"backingPath":"B","hashVerified":false,"path":"/k","size":-1,"vault":"s","vaultID":7,"vaultType":"s3"}"#
        #expect(String(decoding: VaultIndexJSON.encode(bare), as: UTF8.self) == bareJSON)
        #expect(try JSONFormat.encoder().encode(bare) == Data(bareJSON.utf8))
    }

    @Test func sameBytesAsFoundationOnRandomLines() throws {
        var random = LabRandom(seed: 20, stream: "vault-index-json")
        var document = Data()
        var lines: [VaultIndexLine] = []
        for round in 0..<1000 {
            let line = Self.randomLine(&random)
            let foundation = try JSONFormat.encoder().encode(line)
            let ours = VaultIndexJSON.encode(line)
            #expect(ours == foundation, "round \(round): \(String(decoding: ours, as: UTF8.self))")
            let bytes = Array(ours)
            #expect(VaultIndexJSON.decode(bytes, from: 0, to: bytes.count) == line)
            document += ours + Data("\n".utf8)
            lines.append(line)
        }
        #expect(Self.lines(document) == lines)
    }

    /// Shapes Foundation reads but this coder does not write decode as Foundation decodes them; lines Foundation
    /// refuses are skipped, as the previous set's lines always were.
    @Test func otherShapesAsFoundation() throws {
        let readable = [
            #"{ "vault" : "v", "vaultID" : 1, "vaultType" : "local", "path" : "/p", "backingPath" : "b", "size" : 2 }"#,
            #"{"backingPath":"b\/c","path":"\u00e9","size":2,"vault":"v","vaultID":1,"vaultType":"local"}"#,
            #"{"backingPath":"b","iv":null,"path":"/p","size":2,"vault":"v","vaultID":1,"vaultType":"local","extra":[1]}"#,
            #"{"vaultType":"local","vaultID":1,"vault":"v","size":2,"path":"/p","hashVerified":true,"backingPath":"b"}"#,
        ]
        let refused = [
            "{", #"{"backingPath":"b","path":"/p","size":2,"vault":"v","vaultType":"local"}"#,
            #"{"backingPath":"b","path":"/p","size":"2","vault":"v","vaultID":1,"vaultType":"local"}"#,
            #"{"backingPath":"b","hashVerified":1,"path":"/p","size":2,"vault":"v","vaultID":1,"vaultType":"local"}"#,
            #"{"backingPath":"b","path":"/p","size":99999999999999999999,"vault":"v","vaultID":1,"vaultType":"local"}"#,
            #"{"backingPath":"b","path":"/p","size":2,"vault":"v","vaultID":1,"vaultType":"local"}x"#,
        ]
        for text in readable {
            let bytes = Array(text.utf8)
            let foundation = try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data(bytes))
            #expect(VaultIndexJSON.decode(bytes, from: 0, to: bytes.count) == foundation, "\(text)")
        }
        for text in refused {
            let bytes = Array(text.utf8)
            #expect(throws: (any Error).self, "\(text)") { try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data(bytes)) }
            #expect(VaultIndexJSON.decode(bytes, from: 0, to: bytes.count) == nil, "\(text)")
        }
        let mixed = (readable + refused).joined(separator: "\n") + "\n\n"
        #expect(Self.lines(Data(mixed.utf8)).count == readable.count)
    }

    static func lines(_ data: Data) -> [VaultIndexLine] {
        var out: [VaultIndexLine] = []
        VaultIndexJSON.forEachLine(data) { out.append($0) }
        return out
    }

    /// Paths and names as a host has them: any Unicode, control characters, quotes, backslashes, slashes.
    static let alphabet: [String] = ["a", "Z", "0", "-", ".", " ", "/", "\\", "\"", "'", "\n", "\t", "\r", "\u{8}",
                                     "\u{c}", "\u{0}", "\u{1f}", "\u{7f}", "é", "e\u{301}", "ß", "日本", "🦊",
                                     "\u{2028}", "\u{feff}", "<", "&", "+"]

    static func randomLine(_ random: inout LabRandom) -> VaultIndexLine {
        func text(_ random: inout LabRandom, length: Int) -> String {
            (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
        }
        func maybe<T>(_ random: inout LabRandom, _ value: (inout LabRandom) -> T) -> T? { random.next() % 2 == 0 ? value(&random) : nil }
        func int(_ random: inout LabRandom) -> Int { Int(truncatingIfNeeded: random.next()) >> Int(random.next() % 64) }
        return VaultIndexLine(vault: text(&random, length: 1 + Int(random.next() % 8)), vaultID: int(&random),
                              vaultType: random.next() % 2 == 0 ? "local" : "s3", path: "/" + text(&random, length: Int(random.next() % 30)),
                              backingPath: text(&random, length: Int(random.next() % 40)), size: Int64(int(&random)),
                              iv: maybe(&random) { text(&$0, length: 24) }, keyVersion: maybe(&random, int),
                              contentHash: maybe(&random) { text(&$0, length: 64) }, format: maybe(&random, int),
                              hashVerified: maybe(&random) { $0.next() % 2 == 0 })
    }
}
