#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Sodium
import Support

/// The secret of a key-file slot: 256 random bits kept in a root-only file on the host, as 64 hex digits and a
/// newline (printable, so an operator can copy it to a safe). The file's bytes never reach a message.
public struct KeyFile: Sendable {
    /// The 32 secret bytes.
    let secret: Data

    static let secretLength = 32

    /// Reads the key file at `path`: it must be a regular file that neither group nor others may access, holding
    /// exactly 64 hex digits and an optional newline.
    public static func read(_ path: String) throws -> KeyFile {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let problem = errno == ENOENT ? "does not exist" : "cannot be opened (\(String(cString: strerror(errno))))"
            throw OperatorError.badInput("key file \(path) \(problem)", remedy: "check the path, or create it with `valkyrie key add --key-file \(path)`")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw OperatorError.badInput("key file \(path) is not a regular file", remedy: "give the key file itself")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw OperatorError.badInput("key file \(path) is open to group or others (mode \(String(status.st_mode & 0o777, radix: 8)))",
                                         remedy: "run `chmod 600 \(path)`")
        }
        // A key file is 65 bytes; reading one byte more tells a longer file apart without reading it all.
        var text = try handle.read(upToCount: 66) ?? Data()
        defer { Sodium.wipe(&text) }
        guard let secret = decode(text) else {
            throw OperatorError.badInput("key file \(path) is not a Valkyrie key file (64 hex digits and a newline expected)",
                                         remedy: "give the file `valkyrie key add --key-file` wrote")
        }
        return KeyFile(secret: secret)
    }

    /// Creates a new key file at `path` (which must not exist) with 32 fresh random bytes: mode 0600, written and
    /// fsynced, and its folder fsynced, before the slot that needs it is stored.
    public static func create(_ path: String) throws -> KeyFile {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw OperatorError.badInput("cannot create key file \(path): \(String(cString: strerror(errno)))",
                                         remedy: "check that its folder exists and is writable")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let key = KeyFile(secret: Sodium.randomBytes(secretLength))
        var text = Data((key.secret.hexString + "\n").utf8)
        defer { Sodium.wipe(&text) }
        do {
            try handle.write(contentsOf: text)
            try handle.synchronize()
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                fsync(directory)
                close(directory)
            }
        } catch {
            unlink(path)
            throw OperatorError.failed("cannot write key file \(path): \(error.localizedDescription)", remedy: "check the free space")
        }
        return key
    }

    /// The key file at `path`, created when it does not exist yet (one key file may open several repositories).
    public static func readOrCreate(_ path: String) throws -> KeyFile {
        FileManager.default.fileExists(atPath: path) ? try read(path) : try create(path)
    }

    /// The secret from the file's text: 64 hex digits, then at most one newline.
    private static func decode(_ text: Data) -> Data? {
        var digits = text[...]
        if digits.last == 0x0A { digits = digits.dropLast() }
        guard digits.count == 2 * secretLength else { return nil }
        var secret = Data(capacity: secretLength)
        var high: UInt8 = 0
        for (index, byte) in digits.enumerated() {
            let value: UInt8
            switch byte {
            case 0x30...0x39: value = byte - 0x30
            case 0x61...0x66: value = byte - 0x61 + 10
            case 0x41...0x46: value = byte - 0x41 + 10
            default: return nil
            }
            if index % 2 == 0 { high = value } else { secret.append(high << 4 | value) }
        }
        return secret
    }

    /// The personalisation of the KEK's BLAKE2b: a fixed context, so this derivation never equals another use
    /// of the same key.
    static let personal = Data("valkyrie keyfile".utf8)

    /// The KEK of a key-file slot with this 16-byte salt: keyed BLAKE2b-256 of the empty message, the key file's
    /// secret as key, the slot's salt and `personal` in the parameter block. The secret is already 256
    /// uniformly random bits, so nothing is gained by stretching it.
    func kek(salt: Data) throws -> Data {
        try Sodium.blake2b256(Data(), key: secret, salt: salt, personal: Self.personal)
    }
}
