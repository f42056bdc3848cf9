import Foundation

/// A parsed XML element: S3's answers (listings, errors, multipart results) are small documents read whole.
struct S3XML {
    var name: String
    var text: String
    var children: [S3XML]

    /// The first child with this name.
    subscript(_ child: String) -> S3XML? { children.first { $0.name == child } }

    func all(_ child: String) -> [S3XML] { children.filter { $0.name == child } }

    /// Parses a document; nil if it is not well-formed XML (as far as S3's answers need: declaration, comments
    /// and processing instructions, elements whose attributes are checked and dropped, text with the five
    /// predefined entities and character references, CDATA). Names keep their prefix; a DOCTYPE is refused.
    static func parse(_ data: Data) -> S3XML? {
        var parser = S3XMLParser(bytes: [UInt8](data))
        return parser.document()
    }

    /// Escapes text for an element body.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// The parser behind `S3XML.parse`: one pass over the bytes with an explicit stack of open elements.
private struct S3XMLParser {
    let bytes: [UInt8]
    var at = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { at = 3 }
    }

    mutating func document() -> S3XML? {
        guard skipMisc() else { return nil }
        guard peek("<"), let root = element() else { return nil }
        guard skipMisc(), at == bytes.count else { return nil }
        return root
    }

    /// Whitespace, comments and processing instructions (the XML declaration among them) around the root.
    private mutating func skipMisc() -> Bool {
        while true {
            while at < bytes.count, Self.isSpace(bytes[at]) { at += 1 }
            if peek("<?") {
                guard skip(past: "?>") else { return false }
            } else if peek("<!--") {
                guard skip(past: "-->") else { return false }
            } else {
                return !peek("<!")  // a DOCTYPE (or anything else declared) is not S3's
            }
        }
    }

    /// The element at `<` with everything inside it.
    private mutating func element() -> S3XML? {
        var stack: [S3XML] = []
        var text: [UInt8] = []
        while at < bytes.count {
            if bytes[at] != UInt8(ascii: "<") {
                guard let decoded = characters() else { return nil }
                guard !stack.isEmpty else { return nil }
                text += decoded
            } else if peek("</") {
                at += 2
                guard let name = name(), var done = stack.popLast(), name == done.name else { return nil }
                while at < bytes.count, Self.isSpace(bytes[at]) { at += 1 }
                guard peek(">") else { return nil }
                at += 1
                guard let content = String(validating: text, as: UTF8.self) else { return nil }
                done.text += content
                text = []
                if stack.isEmpty { return done }
                stack[stack.count - 1].children.append(done)
            } else if peek("<!--") {
                guard skip(past: "-->") else { return nil }
            } else if peek("<![CDATA[") {
                at += 9
                let start = at
                guard skip(past: "]]>"), !stack.isEmpty else { return nil }
                text += bytes[start..<(at - 3)]
            } else if peek("<?") {
                guard skip(past: "?>") else { return nil }
            } else {
                at += 1
                guard let name = name(), let selfClosing = attributes() else { return nil }
                // Text seen so far belongs to the parent, as XMLParser reported it.
                if !stack.isEmpty {
                    guard let content = String(validating: text, as: UTF8.self) else { return nil }
                    stack[stack.count - 1].text += content
                    text = []
                }
                let opened = S3XML(name: name, text: "", children: [])
                if selfClosing {
                    if stack.isEmpty { return opened }
                    stack[stack.count - 1].children.append(opened)
                } else {
                    stack.append(opened)
                }
            }
        }
        return nil
    }

    /// An element name: up to whitespace, `/`, `>` or `=`.
    private mutating func name() -> String? {
        let start = at
        while at < bytes.count, !Self.isSpace(bytes[at]), !"/>=<\"'".utf8.contains(bytes[at]) { at += 1 }
        guard at > start else { return nil }
        return String(validating: bytes[start..<at], as: UTF8.self)
    }

    /// Attributes up to and including `>` or `/>`, checked for form and dropped. Whether the tag closed itself.
    private mutating func attributes() -> Bool? {
        while true {
            while at < bytes.count, Self.isSpace(bytes[at]) { at += 1 }
            if peek("/>") {
                at += 2
                return true
            }
            if peek(">") {
                at += 1
                return false
            }
            guard name() != nil else { return nil }
            while at < bytes.count, Self.isSpace(bytes[at]) { at += 1 }
            guard peek("=") else { return nil }
            at += 1
            while at < bytes.count, Self.isSpace(bytes[at]) { at += 1 }
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") || bytes[at] == UInt8(ascii: "'") else { return nil }
            let quote = bytes[at]
            at += 1
            guard let end = bytes[at...].firstIndex(of: quote), !bytes[at..<end].contains(UInt8(ascii: "<")) else { return nil }
            at = end + 1
        }
    }

    /// Character data up to the next `<`, entities and character references decoded.
    private mutating func characters() -> [UInt8]? {
        var out: [UInt8] = []
        while at < bytes.count, bytes[at] != UInt8(ascii: "<") {
            guard bytes[at] == UInt8(ascii: "&") else {
                out.append(bytes[at])
                at += 1
                continue
            }
            guard let semicolon = bytes[at...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { return nil }
            let entity = String(decoding: bytes[(at + 1)..<semicolon], as: UTF8.self)
            at = semicolon + 1
            switch entity {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let number: UInt32? = if entity.hasPrefix("#x") {
                    UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    UInt32(entity.dropFirst(), radix: 10)
                } else {
                    nil
                }
                guard let number, number != 0, let scalar = Unicode.Scalar(number) else { return nil }
                out += Array(String(Character(scalar)).utf8)
            }
        }
        return out
    }

    private func peek(_ text: String) -> Bool { bytes[at...].starts(with: text.utf8) }

    /// Moves past the next `text`; false when there is none.
    private mutating func skip(past text: String) -> Bool {
        let pattern = Array(text.utf8)
        var i = at
        while i + pattern.count <= bytes.count {
            if bytes[i] == pattern[0], bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
                at = i + pattern.count
                return true
            }
            i += 1
        }
        return false
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
