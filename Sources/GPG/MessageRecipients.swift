import Foundation
import Support

extension GPGContext {
    /// The key ids (16 upper-case hex digits, usually encryption subkeys) an OpenPGP message is encrypted to,
    /// read from its public-key encrypted session key packets (RFC 4880, 5.1) without decrypting anything,
    /// so no secret key and no keyring is needed. An anonymous recipient (`--throw-keyids`) is all zeros.
    public func recipients(of message: Data) throws -> [String] {
        try OpenPGPPackets.recipients(of: message)
    }
}

/// Just enough of RFC 4880 to list the recipients of an encrypted message.
enum OpenPGPPackets {
    private static let publicKeySessionKey: UInt8 = 1
    private static let symmetricSessionKey: UInt8 = 3

    static func recipients(of message: Data) throws -> [String] {
        let bytes = [UInt8](try dearmored(message))
        guard let first = bytes.first, first & 0x80 != 0 else { throw notAMessage() }
        var ids: [String] = []
        var offset = 0
        // Session key packets come first; the encrypted data that follows ends the list.
        while offset < bytes.count {
            let (tag, body) = try packet(in: bytes, at: &offset)
            if tag == symmetricSessionKey { continue }
            guard tag == publicKeySessionKey else { break }
            guard let version = body.first, version == 3, body.count >= 9 else {
                throw OperatorError.badInput("the OpenPGP message has a session key packet of an unsupported version",
                                             remedy: "check it with `gpg --list-packets`")
            }
            ids.append(body.dropFirst().prefix(8).map { String(format: "%02X", $0) }.joined())
        }
        return ids
    }

    /// The tag and body of the packet at `offset`, which moves past it. Old- and new-format headers.
    private static func packet(in bytes: [UInt8], at offset: inout Int) throws -> (UInt8, ArraySlice<UInt8>) {
        func byte() throws -> Int {
            guard offset < bytes.count else { throw notAMessage() }
            defer { offset += 1 }
            return Int(bytes[offset])
        }
        func bigEndian(_ count: Int) throws -> Int { try (0..<count).reduce(0) { value, _ in (value << 8) | (try byte()) } }

        let header = try byte()
        guard header & 0x80 != 0 else { throw notAMessage() }
        let tag: UInt8
        let length: Int
        if header & 0x40 != 0 {
            tag = UInt8(header & 0x3F)
            let first = try byte()
            switch first {
            case 0..<192: length = first
            case 192..<224: length = ((first - 192) << 8) + (try byte()) + 192
            case 255: length = try bigEndian(4)
            default: return (tag, []) // a partial-length body: only encrypted data streams use it
            }
        } else {
            tag = UInt8((header >> 2) & 0x0F)
            switch header & 0x03 {
            case 0: length = try byte()
            case 1: length = try bigEndian(2)
            case 2: length = try bigEndian(4)
            default: length = bytes.count - offset
            }
        }
        guard length <= bytes.count - offset else { throw notAMessage() }
        defer { offset += length }
        return (tag, bytes[offset..<offset + length])
    }

    /// The binary packets of an armored message (RFC 4880, 6.2), or the data itself when it is binary.
    private static func dearmored(_ message: Data) throws -> Data {
        let text = String(decoding: message.prefix(64), as: UTF8.self)
        guard text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("-----BEGIN PGP") else { return message }
        var body = ""
        var inHeaders = true, started = false
        for line in String(decoding: message, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = line.trimmingCharacters(in: .whitespaces)
            if !started { started = line.hasPrefix("-----BEGIN PGP"); continue }
            if inHeaders { inHeaders = !line.isEmpty; continue } // "Key: value" lines up to a blank line
            if line.hasPrefix("=") || line.hasPrefix("-----END") { break } // CRC-24 checksum, then the tail
            body += line
        }
        guard let binary = Data(base64Encoded: body), !binary.isEmpty else { throw notAMessage() }
        return binary
    }

    private static func notAMessage() -> OperatorError {
        .badInput("the data is not an OpenPGP message", remedy: "give the .asc or .gpg file unchanged")
    }
}
