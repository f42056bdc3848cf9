import Foundation
import POSIX
import Support

/// Trees as JSON without Foundation's coder: the bytes `JSONFormat.encoder()` writes (sorted keys, slashes
/// unescaped, `Data` as base64), written and read directly. A backup encodes every directory it walks and reads
/// its parent's and its own trees back; Foundation's coder, going through a tree of boxed values per node, was
/// most of that time.
///
/// Reading takes the one shape this writer (and Foundation, with `JSONFormat`'s settings) produces. Anything
/// else (whitespace, escaped characters, unknown or repeated keys, nulls, a missing key, a number out of range)
/// is left to Foundation's decoder, so what a tree decodes to, or why it is refused, never depends on which of the
/// two read it.
enum TreeJSON {
    static func encode(_ tree: Tree) -> Data {
        var writer = TreeWriter()
        writer.tree(tree)
        return Data(writer.out)
    }

    static func decode(_ data: Data) throws -> Tree {
        try read(data) ?? JSONFormat.decoder().decode(Tree.self, from: data)
    }

    /// The tree, when it has the shape this coder writes without escapes; nil leaves it to Foundation.
    static func read(_ data: Data) -> Tree? {
        var reader = TreeReader(Array(data))
        return (try? reader.tree()).map(Tree.init(decoded:))
    }
}

private struct TreeWriter {
    var out: [UInt8] = []

    init() { out.reserveCapacity(4096) }

    mutating func tree(_ tree: Tree) {
        out.append(contentsOf: #"{"nodes":["#.utf8)
        for (position, node) in tree.nodes.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            self.node(node)
        }
        out.append(contentsOf: "]}".utf8)
    }

    /// Members in UTF-8 order of their keys; absent optionals are left out, as Foundation's `encodeIfPresent`.
    private mutating func node(_ node: Node) {
        out.append(UInt8(ascii: "{"))
        if let content = node.content { key("content"); ids(content) }
        if let ctime = node.ctime { key("ctime"); time(ctime) }
        if let device = node.device { key("device"); number(device) }
        key("gid"); number(node.gid)
        if let group = node.group { key("group"); string(group) }
        if let hardLink = node.hardLink { key("hardLink"); string(hardLink) }
        if let inode = node.inode { key("inode"); number(inode) }
        if let links = node.links { key("links"); number(links) }
        key("mode"); number(node.mode)
        key("mtime"); time(node.mtime)
        key("name"); string(node.name)
        if let patchBase = node.patchBase { key("patchBase"); ids(patchBase) }
        if let rdev = node.rdev { key("rdev"); number(rdev) }
        key("size"); number(node.size)
        if let subtree = node.subtree { key("subtree"); id(subtree) }
        if let target = node.target { key("target"); string(target) }
        key("type"); string(node.type.rawValue)
        key("uid"); number(node.uid)
        if let user = node.user { key("user"); string(user) }
        if let xattrs = node.xattrs {
            key("xattrs")
            out.append(UInt8(ascii: "["))
            for (position, xattr) in xattrs.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"name":"#.utf8)
                string(xattr.name)
                out.append(contentsOf: #","value":""#.utf8)
                out.append(contentsOf: xattr.value.base64EncodedString().utf8)
                out.append(contentsOf: #""}"#.utf8)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    private mutating func key(_ name: StaticString) {
        if out.last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: "\":".utf8)
    }

    private mutating func number(_ value: some BinaryInteger) {
        out.append(contentsOf: String(value).utf8)
    }

    private mutating func time(_ time: FileTime) {
        out.append(contentsOf: #"{"ns":"#.utf8)
        number(time.ns)
        out.append(contentsOf: #","s":"#.utf8)
        number(time.s)
        out.append(UInt8(ascii: "}"))
    }

    private mutating func id(_ id: BlobID) {
        out.append(UInt8(ascii: "\""))
        id.appendHex(to: &out)
        out.append(UInt8(ascii: "\""))
    }

    private mutating func ids(_ ids: [BlobID]) {
        out.append(UInt8(ascii: "["))
        for (position, value) in ids.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            id(value)
        }
        out.append(UInt8(ascii: "]"))
    }

    private mutating func string(_ text: String) {
        JSONFormat.appendString(text, to: &out)
    }
}

/// Reads the shape `TreeWriter` writes; throws `Unhandled` at anything else (the caller then asks Foundation).
private struct TreeReader {
    var scanner: JSONScanner

    typealias Unhandled = JSONScanner.Unhandled

    init(_ bytes: [UInt8]) { scanner = JSONScanner(bytes) }

    /// A node's keys, a bit each.
    private static let keys: [String: UInt32] = Dictionary(uniqueKeysWithValues: [
        "content", "ctime", "device", "gid", "group", "hardLink", "inode", "links", "mode", "mtime", "name", "patchBase",
        "rdev", "size", "subtree", "target", "type", "uid", "user", "xattrs",
    ].enumerated().map { ($1, UInt32(1) << UInt32($0)) })

    mutating func tree() throws -> [Node] {
        try expect(UInt8(ascii: "{"))
        guard try key() == "nodes" else { throw Unhandled() }
        try expect(UInt8(ascii: "["))
        var nodes: [Node] = []
        if try !take(UInt8(ascii: "]")) {
            repeat { nodes.append(try node()) } while try take(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
        }
        try expect(UInt8(ascii: "}"))
        guard scanner.atEnd else { throw Unhandled() }
        return nodes
    }

    private mutating func node() throws -> Node {
        try expect(UInt8(ascii: "{"))
        var name: String?, type: NodeKind?, mode: UInt32?, uid: UInt32?, gid: UInt32?, mtime: FileTime?, size: Int64?
        var node = Node(name: "", type: .file, mode: 0, mtime: FileTime(s: 0, ns: 0))
        var seen: UInt32 = 0
        repeat {
            let key = try key()
            // A repeated key is Foundation's to judge.
            guard let bit = Self.keys[key], seen & bit == 0 else { throw Unhandled() }
            seen |= bit
            switch key {
            case "content": node.content = try ids()
            case "ctime": node.ctime = try time()
            case "device": node.device = try unsigned(UInt64.self)
            case "gid": gid = try unsigned(UInt32.self)
            case "group": node.group = try string()
            case "hardLink": node.hardLink = try string()
            case "inode": node.inode = try unsigned(UInt64.self)
            case "links": node.links = try unsigned(UInt64.self)
            case "mode": mode = try unsigned(UInt32.self)
            case "mtime": mtime = try time()
            case "name": name = try string()
            case "patchBase": node.patchBase = try ids()
            case "rdev": node.rdev = try unsigned(UInt64.self)
            case "size": size = try signed()
            case "subtree": node.subtree = try id()
            case "target": node.target = try string()
            case "type":
                guard let kind = NodeKind(rawValue: try string()) else { throw Unhandled() }
                type = kind
            case "uid": uid = try unsigned(UInt32.self)
            case "user": node.user = try string()
            case "xattrs": node.xattrs = try xattrs()
            default: throw Unhandled()
            }
        } while try take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
        guard let name, let type, let mode, let uid, let gid, let mtime, let size else { throw Unhandled() }
        (node.name, node.type, node.mode, node.uid, node.gid, node.mtime, node.size) = (name, type, mode, uid, gid, mtime, size)
        return node
    }

    private mutating func xattrs() throws -> [ExtendedAttribute] {
        try expect(UInt8(ascii: "["))
        var out: [ExtendedAttribute] = []
        if try take(UInt8(ascii: "]")) { return out }
        repeat {
            try expect(UInt8(ascii: "{"))
            guard try key() == "name" else { throw Unhandled() }
            let name = try string()
            try expect(UInt8(ascii: ","))
            guard try key() == "value", let value = Data(base64Encoded: try string()) else { throw Unhandled() }
            try expect(UInt8(ascii: "}"))
            out.append(ExtendedAttribute(name: name, value: value))
        } while try take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
        return out
    }

    private mutating func time() throws -> FileTime {
        try expect(UInt8(ascii: "{"))
        guard try key() == "ns" else { throw Unhandled() }
        let ns = try signed()
        try expect(UInt8(ascii: ","))
        guard try key() == "s" else { throw Unhandled() }
        let s = try signed()
        try expect(UInt8(ascii: "}"))
        return FileTime(s: s, ns: ns)
    }

    private mutating func ids() throws -> [BlobID] {
        try expect(UInt8(ascii: "["))
        var out: [BlobID] = []
        if try take(UInt8(ascii: "]")) { return out }
        repeat { out.append(try id()) } while try take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
        return out
    }

    private mutating func id() throws -> BlobID {
        try expect(UInt8(ascii: "\""))
        let at = scanner.at
        guard at + 65 <= scanner.end, scanner.bytes[at + 64] == UInt8(ascii: "\""),
              let id = BlobID(hex: scanner.bytes, at: at) else { throw Unhandled() }
        scanner.at += 65
        return id
    }

    private mutating func key() throws -> String { try scanner.key() }
    private mutating func string() throws -> String { try scanner.string() }
    private mutating func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws -> T { try scanner.unsigned(type) }
    private mutating func signed() throws -> Int64 { try scanner.signed() }
    private mutating func expect(_ byte: UInt8) throws { try scanner.expect(byte) }
    private mutating func take(_ byte: UInt8) throws -> Bool { try scanner.take(byte) }
}
