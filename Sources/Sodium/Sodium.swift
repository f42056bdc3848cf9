import CSodium
import Foundation
import Support

/// libsodium, wrapped once: BLAKE2b (Vaulthalla's content hash; keyed, for key-file slots), argon2id (passphrase
/// key slots), random bytes.
public enum Sodium {
    private static let ready: Bool = sodium_init() >= 0

    private static func ensureReady() {
        precondition(ready, "libsodium failed to initialise")
    }

    /// BLAKE2b with a 32-byte digest, unkeyed (`crypto_generichash`), as Vaulthalla's `files.content_hash`.
    public static func blake2b256(_ data: Data) -> Data {
        let hasher = Blake2b256()
        hasher.update(data)
        return hasher.finalize()
    }

    /// `count` bytes from the operating system's CSPRNG.
    public static func randomBytes(_ count: Int) -> Data {
        ensureReady()
        var out = Data(count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return out
    }

    /// Cost of an argon2id derivation. `interactive` suits tests; `recommended` is the default for repositories.
    public struct Argon2Cost: Codable, Sendable, Equatable {
        public var opsLimit: UInt64
        public var memLimit: UInt64
        public init(opsLimit: UInt64, memLimit: UInt64) {
            self.opsLimit = opsLimit
            self.memLimit = memLimit
        }
        public static let interactive = Argon2Cost(opsLimit: UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE),
                                                   memLimit: UInt64(crypto_pwhash_MEMLIMIT_INTERACTIVE))
        /// RFC 9106's second recommended option (t = 3, 64 MiB), meant for machines that cannot spare 2 GiB:
        /// about 0.15 s here, where libsodium's "moderate" (256 MiB) took 0.6 s and set the peak memory of
        /// every command that opens a repository.
        public static let recommended = Argon2Cost(opsLimit: 3, memLimit: 64 << 20)
    }

    /// The salt length argon2id takes (16 bytes).
    public static let argon2SaltLength = Int(crypto_pwhash_SALTBYTES)

    /// Derives `length` bytes from `passphrase` and a 16-byte `salt` with argon2id v1.3.
    public static func argon2id(passphrase: Data, salt: Data, length: Int = 32, cost: Argon2Cost) throws -> Data {
        ensureReady()
        guard salt.count == argon2SaltLength else {
            throw OperatorError.failed("argon2id salt must be \(argon2SaltLength) bytes, got \(salt.count)")
        }
        var out = Data(count: length)
        let secret = passphrase.isEmpty ? Data([0]) : passphrase // a valid pointer even for an empty passphrase
        let rc = out.withUnsafeMutableBytes { outBuf in
            secret.withUnsafeBytes { pw in
                salt.withUnsafeBytes { s in
                    crypto_pwhash(outBuf.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(length),
                                  pw.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(passphrase.count),
                                  s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                  cost.opsLimit, Int(cost.memLimit), crypto_pwhash_ALG_ARGON2ID13)
                }
            }
        }
        guard rc == 0 else {
            throw OperatorError.failed("argon2id could not allocate \(cost.memLimit >> 20) MiB",
                                       remedy: "free memory or lower the slot's cost")
        }
        return out
    }

    /// The salt and personalisation lengths of BLAKE2b's parameter block (16 bytes each).
    public static let blake2bSaltLength = Int(crypto_generichash_blake2b_SALTBYTES)
    public static let blake2bPersonalLength = Int(crypto_generichash_blake2b_PERSONALBYTES)

    /// Keyed BLAKE2b with a 32-byte digest and the parameter block's salt and personalisation set
    /// (`crypto_generichash_blake2b_salt_personal`): a fast KDF for a key that is already uniformly random.
    public static func blake2b256(_ data: Data, key: Data, salt: Data, personal: Data) throws -> Data {
        ensureReady()
        guard (16...64).contains(key.count), salt.count == blake2bSaltLength, personal.count == blake2bPersonalLength else {
            throw OperatorError.failed("keyed BLAKE2b needs a 16 to 64-byte key, a 16-byte salt and a 16-byte personalisation")
        }
        var out = Data(count: 32)
        let input = data.isEmpty ? Data([0]) : data // a valid pointer even for an empty message
        let rc = out.withUnsafeMutableBytes { outBuf in
            input.withUnsafeBytes { inBuf in
                key.withUnsafeBytes { k in
                    salt.withUnsafeBytes { s in
                        personal.withUnsafeBytes { p in
                            crypto_generichash_blake2b_salt_personal(
                                outBuf.baseAddress!.assumingMemoryBound(to: UInt8.self), 32,
                                inBuf.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(data.count),
                                k.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count,
                                s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                p.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        guard rc == 0 else { throw OperatorError.failed("keyed BLAKE2b failed") }
        return out
    }

    /// Overwrites `data` with zeros in a way the optimiser keeps (for keys leaving memory).
    public static func wipe(_ data: inout Data) {
        let count = data.count
        data.withUnsafeMutableBytes { if let base = $0.baseAddress { sodium_memzero(base, count) } }
    }
}

/// Streaming BLAKE2b-256, for hashing large bodies without holding them.
public final class Blake2b256 {
    // libsodium's state is an opaque, 64-byte-aligned struct: owned here as raw memory.
    private let state: OpaquePointer
    private let raw: UnsafeMutableRawPointer

    public init() {
        _ = Sodium.randomBytes(0) // initialises libsodium
        raw = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        state = OpaquePointer(raw)
        crypto_generichash_init(state, nil, 0, 32)
    }

    deinit { raw.deallocate() }

    public func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    public func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        _ = crypto_generichash_update(state, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(buffer.count))
    }

    public func finalize() -> Data {
        var out = Data(count: 32)
        out.withUnsafeMutableBytes { _ = crypto_generichash_final(state, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 32) }
        return out
    }
}
