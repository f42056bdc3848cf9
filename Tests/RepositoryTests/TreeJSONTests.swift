import Foundation
import POSIX
@testable import Repository
import Support
import Testing

/// The tree coder writes Foundation's bytes (trees are blobs named by their content: a different byte would store
/// every directory again and break dedup with every earlier set) and reads back what Foundation reads.
@Suite struct TreeJSONTests {
    static let id1 = BlobID(hex: String(repeating: "0f", count: 32))!
    static let id2 = BlobID(hex: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")!

    @Test func knownVector() throws {
        let tree = Tree(nodes: [
            Node(name: "b/\"q\"\\é\n", type: .file, mode: 0o644, uid: 1000, gid: 100, user: "ü", group: nil,
                 mtime: FileTime(s: -1, ns: 999_999_999), ctime: FileTime(s: 1_700_000_000, ns: 0), size: 5,
                 inode: UInt64.max, device: 2049, links: 2, hardLink: "a/x",
                 xattrs: [ExtendedAttribute(name: "user.k", value: Data([0xfb, 0xff, 0x00]))], content: [Self.id1]),
            Node(name: "a", type: .dir, mode: 0o755, mtime: FileTime(s: 0, ns: 0), subtree: Self.id2),
        ])
        let hex1 = String(repeating: "0f", count: 32)
        let expected = #"{"nodes":[{"gid":0,"mode":493,"mtime":{"ns":0,"s":0},"name":"a","size":0,"subtree":"# +
            #""00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","type":"dir","uid":0},"# +
            #"{"content":[""# + hex1 + #""],"ctime":{"ns":0,"s":1700000000},"device":2049,"gid":100,"hardLink":"a/x","# +
            #""inode":18446744073709551615,"links":2,"mode":420,"mtime":{"ns":999999999,"s":-1},"# +
            #""name":"b/\"q\"\\é\n","size":5,"type":"file","uid":1000,"user":"ü","# +
            #""xattrs":[{"name":"user.k","value":"+/8A"}]}]}"#
        #expect(String(decoding: tree.encoded(), as: UTF8.self) == expected)
        #expect(try JSONFormat.encoder().encode(tree) == Data(expected.utf8))
        #expect(try TreeJSON.decode(Data(expected.utf8)) == tree)
    }

    @Test func sameBytesAsFoundationOnRandomTrees() throws {
        var random = SplitMix64(seed: 10)
        for round in 0..<400 {
            let tree = Self.randomTree(&random, nodes: round % 40)
            let foundation = try JSONFormat.encoder().encode(tree)
            let ours = tree.encoded()
            #expect(ours == foundation, "round \(round): \(String(decoding: ours, as: UTF8.self))")
            #expect(try TreeJSON.decode(foundation) == JSONFormat.decoder().decode(Tree.self, from: foundation))
            #expect(try TreeJSON.decode(ours) == tree)
        }
    }

    /// Trees whose strings need no escapes (nearly all) are read without Foundation.
    @Test func readsItsOwnShapeDirectly() throws {
        var random = SplitMix64(seed: 11)
        for round in 0..<200 {
            let tree = Self.randomTree(&random, nodes: round % 40, alphabet: Self.plain)
            let read = try #require(TreeJSON.read(tree.encoded()), "round \(round)")
            #expect(read == tree)
            #expect(read == (try JSONFormat.decoder().decode(Tree.self, from: JSONFormat.encoder().encode(tree))))
        }
    }

    /// Shapes Foundation reads but this coder does not write: whitespace, escapes, another key order, unknown
    /// keys, nulls. They decode as Foundation decodes them.
    @Test func otherShapesDecodeAsFoundation() throws {
        let id = String(repeating: "ab", count: 32)
        let documents = [
            #"{ "nodes" : [ { "name" : "x", "type" : "file", "mode" : 1, "uid" : 2, "gid" : 3, "mtime" : { "s" : 4, "ns" : 5 }, "size" : 6 } ] }"#,
            #"{"nodes":[{"name":"caf\u00e9 \/ \ud83e\udd8a","type":"file","mode":1,"uid":2,"gid":3,"mtime":{"ns":5,"s":4},"size":6}]}"#,
            #"{"nodes":[{"type":"dir","size":0,"name":"d","uid":0,"mtime":{"s":1,"ns":0},"mode":448,"gid":0,"subtree":""# + id + #""}]}"#,
            #"{"nodes":[{"gid":0,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"file","uid":0,"future":[1,{"a":null}]}]}"#,
            #"{"nodes":[{"gid":0,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"file","uid":0,"user":null,"content":null}]}"#,
            #"{"nodes":[],"extra":true}"#,
            #"{"nodes":[]}"#,
        ]
        for document in documents {
            let data = Data(document.utf8)
            #expect(try TreeJSON.decode(data) == JSONFormat.decoder().decode(Tree.self, from: data), "\(document)")
        }
    }

    /// What Foundation refuses is refused.
    @Test func refusesWhatFoundationRefuses() throws {
        let documents = [
            "", "{", #"{"nodes":[{}]}"#, #"{"nodes":[{"gid":0,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"uid":0}]}"#,
            #"{"nodes":[{"gid":-1,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"file","uid":0}]}"#,
            #"{"nodes":[{"gid":4294967296,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"file","uid":0}]}"#,
            #"{"nodes":[{"gid":0,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"pipe","uid":0}]}"#,
            #"{"nodes":[{"gid":0,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"file","uid":0,"subtree":"zz"}]}"#,
            #"{"nodes":[{"gid":0,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"file","uid":0}]}x"#,
            #"{"nodes":[{"gid":0,"mode":1,"mtime":{"ns":0,"s":0},"name":"n","size":0,"type":"file","uid":0,"xattrs":[{"name":"a","value":"!"}]}]}"#,
        ]
        for document in documents {
            let data = Data(document.utf8)
            #expect(throws: (any Error).self, "\(document)") { try JSONFormat.decoder().decode(Tree.self, from: data) }
            #expect(throws: (any Error).self, "\(document)") { try TreeJSON.decode(data) }
        }
    }

    /// Names as a host has them: any Unicode, control characters, quotes, backslashes, slashes.
    static let alphabet: [String] = ["a", "Z", "0", "-", ".", " ", "/", "\\", "\"", "'", "\n", "\t", "\r", "\u{8}",
                                     "\u{c}", "\u{0}", "\u{1f}", "\u{7f}", "é", "e\u{301}", "ß", "日本", "🦊", "👩‍👩‍👧",
                                     "\u{2028}", "\u{200f}", "\u{feff}", "\u{fffd}", "<", "&", "~", "+"]

    /// The same without what JSON escapes.
    static let plain = alphabet.filter { !$0.unicodeScalars.contains { $0.value < 0x20 || $0 == "\"" || $0 == "\\" } }

    static func randomTree(_ random: inout SplitMix64, nodes count: Int, alphabet: [String] = alphabet) -> Tree {
        func randomString(_ random: inout SplitMix64, length: Int) -> String {
            (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
        }
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { random.next() % 2 == 0 ? value() : nil }
        func id() -> BlobID { BlobID(bytes: random.bytes(32))! }
        func time() -> FileTime {
            FileTime(s: Int64(bitPattern: random.next()) >> Int64(random.next() % 64), ns: Int64(random.next() % 1_000_000_000))
        }
        let kinds: [NodeKind] = [.file, .dir, .symlink, .fifo, .chardev, .blockdev, .socket]
        var nodes: [Node] = []
        for i in 0..<count {
            let name = randomString(&random, length: 1 + Int(random.next() % 12)) + "\(i)"
            let ids = (0..<Int(random.next() % 4)).map { _ in id() }
            let xattrs = (0..<Int(random.next() % 3)).map { _ in
                ExtendedAttribute(name: "user." + randomString(&random, length: 4), value: Data(random.bytes(Int(random.next() % 40))))
            }
            nodes.append(Node(name: name, type: kinds[Int(random.next() % UInt64(kinds.count))],
                              mode: UInt32(truncatingIfNeeded: random.next()) & 0o7777,
                              uid: UInt32(truncatingIfNeeded: random.next() >> UInt64(random.next() % 33)),
                              gid: UInt32(truncatingIfNeeded: random.next() >> UInt64(random.next() % 33)),
                              user: maybe(randomString(&random, length: 5)), group: maybe(randomString(&random, length: 5)),
                              mtime: time(), ctime: maybe(time()), size: Int64(bitPattern: random.next()) >> Int64(random.next() % 64),
                              inode: maybe(random.next()), device: maybe(random.next() >> 40), links: maybe(random.next() % 5),
                              hardLink: maybe(randomString(&random, length: 8)), target: maybe(randomString(&random, length: 20)),
                              rdev: maybe(random.next()), xattrs: maybe(xattrs), content: maybe(ids), patchBase: maybe(Array(ids.reversed())),
                              subtree: maybe(id())))
        }
        return Tree(nodes: nodes)
    }
}
