import Foundation
import Support
import Testing
import TPM

/// Against the swtpm of scripts/services. swtpm serves one connection at a time, so the tests take turns.
@Suite(.serialized) struct TPMTests {
    func context() throws -> TPMContext {
        try TPMContext(tcti: try TestServices.env("VALKYRIE_TEST_TPM_TCTI"))
    }

    @Test func sealUnsealRoundTrip() throws {
        let tpm = try context()
        let secret = try tpm.randomBytes(32)
        let blob = try tpm.seal(secret)
        #expect(try tpm.unseal(blob) == secret)
        // A second sealing of the same secret is a different blob that unseals to the same secret.
        let again = try tpm.seal(secret)
        #expect(again.privateArea != blob.privateArea)
        #expect(try tpm.unseal(again) == secret)
        // The smallest secret, and the largest swtpm takes (MAX_SYM_DATA).
        for size in [1, 64, 128] {
            let other = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 37) })
            #expect(try tpm.unseal(tpm.seal(other)) == other)
        }
    }

    @Test func blobIsInVaulthallasForm() throws {
        let blob = try context().seal(Data(repeating: 0x5A, count: 32))
        // .pub: the in-memory TPMT_PUBLIC of tss2 on 64-bit Linux, 612 bytes, little-endian fields:
        // type KEYEDHASH (0x0008), nameAlg SHA-256 (0x000B), attributes fixedTPM|fixedParent|userWithAuth|noDA.
        #expect(blob.publicArea.count == 612)
        let field = { (offset: Int, size: Int) in
            blob.publicArea[offset..<offset + size].reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        #expect(field(0, 2) == 0x0008)
        #expect(field(2, 2) == 0x000B)
        #expect(field(4, 4) == 0x0000_0452)
        // .priv: the TPM2B_PRIVATE buffer without its size field, which begins with the integrity HMAC's size
        // (32, big-endian, as the TPM marshals it) for a SHA-256 parent.
        #expect(blob.privateArea.count > 32 && blob.privateArea.count < 1550)
        #expect(blob.privateArea.prefix(2) == Data([0x00, 0x20]))
    }

    @Test func aNewContextUnsealsWhatAnEarlierOneSealed() throws {
        let secret = Data("the vault master key, 32 bytes!!".utf8)
        let blob = try context().seal(secret) // that context is closed when the line ends
        #expect(try context().unseal(blob) == secret)
    }

    @Test func anotherTPMCannotUnseal() throws {
        let secret = try context().randomBytes(32)
        let blob = try context().seal(secret)
        try withScratchSwtpm { tcti in
            let other = try TPMContext(tcti: tcti)
            let error = #expect(throws: OperatorError.self) { try other.unseal(blob) }
            #expect(error?.problem.contains("TPM at \(tcti): loading the sealed blob (TPM2_Load) failed") == true)
            #expect(error?.remedy?.contains("sealed by another TPM") == true)
            #expect(error.map { !$0.description.contains(secret.hex) } == true)
            // The scratch TPM (started here with TPM2_Startup by the context) seals and unseals its own.
            #expect(try other.unseal(other.seal(secret)) == secret)
        }
    }

    @Test func tamperedBlobsFailClearly() throws {
        let tpm = try context()
        let blob = try tpm.seal(Data(repeating: 7, count: 32))
        var flipped = blob
        flipped.privateArea[flipped.privateArea.count / 2] ^= 0x01
        let error = #expect(throws: OperatorError.self) { try tpm.unseal(flipped) }
        #expect(error?.problem.contains("TPM2_Load") == true && error?.problem.contains("integrity") == true)

        var wrongPublic = blob
        wrongPublic.publicArea[4] ^= 0x40 // userWithAuth off: the name no longer matches the sealed object
        #expect(throws: OperatorError.self) { try tpm.unseal(wrongPublic) }

        let truncated = SealedBlob(privateArea: blob.privateArea, publicArea: blob.publicArea.prefix(600))
        let short = #expect(throws: OperatorError.self) { try tpm.unseal(truncated) }
        #expect(short?.status == .usage && short?.problem.contains("600 bytes") == true)
        let empty = #expect(throws: OperatorError.self) {
            try tpm.unseal(SealedBlob(privateArea: Data(), publicArea: blob.publicArea))
        }
        #expect(empty?.status == .usage)
        // The TPM itself still works after the failures (no leaked object slots).
        #expect(try tpm.unseal(blob) == Data(repeating: 7, count: 32))
    }

    /// Independent tooling agrees on Vaulthalla's blob form and template: tpm2-tools unseals what the wrapper
    /// sealed, and the wrapper unseals what tpm2-tools sealed under a primary made from the documented template.
    @Test func tpm2ToolsAgreeOnTheBlobForm() throws {
        let tcti = try TestServices.env("VALKYRIE_TEST_TPM_TCTI")
        let directory = try makeTemporaryDirectory("valkyrie-tpm2-tools")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // tpm2-tools without a resource manager leave objects loaded: flush them after every tool.
        func tool(_ name: String, _ arguments: [String]) throws {
            defer { _ = try? Subprocess.run("tpm2_flushcontext", ["-T", tcti, "-t"]) }
            try Subprocess.check(name, ["-Q", "-T", tcti] + arguments, currentDirectory: directory)
        }
        func file(_ name: String) -> URL { URL(fileURLWithPath: "\(directory)/\(name)") }
        try tool("tpm2_createprimary", ["-C", "o", "-g", "sha256", "-G", "rsa2048:null:aes128cfb", "-c", "primary.ctx",
                                        "-a", "restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda"])

        let ours = Data("sealed by Valkyrie, for tpm2-tools".utf8)
        let blob = try context().seal(ours) // the context closes before the tools connect
        #expect(try TPMWire.rawPublic(marshalled: Data(TPMWire.marshalled(rawPublic: blob.publicArea))) == blob.publicArea)
        try Data(TPMWire.marshalled(rawPublic: blob.publicArea)).write(to: file("ours.pub"))
        try Data(TPMWire.sized(blob.privateArea)).write(to: file("ours.priv"))
        try tool("tpm2_load", ["-C", "primary.ctx", "-u", "ours.pub", "-r", "ours.priv", "-c", "ours.ctx"])
        try tool("tpm2_unseal", ["-c", "ours.ctx", "-o", "ours.out"])
        #expect(try Data(contentsOf: file("ours.out")) == ours)

        let theirs = Data("sealed by tpm2-tools, for Valkyrie".utf8)
        try theirs.write(to: file("theirs.in"))
        try tool("tpm2_create", ["-C", "primary.ctx", "-g", "sha256", "-a", "fixedtpm|fixedparent|userwithauth|noda",
                                 "-i", "theirs.in", "-u", "theirs.pub", "-r", "theirs.priv"])
        let sealed = SealedBlob(privateArea: try Data(contentsOf: file("theirs.priv")).dropFirst(2),
                                publicArea: try TPMWire.rawPublic(marshalled: Data(contentsOf: file("theirs.pub"))))
        #expect(try context().unseal(sealed) == theirs)
    }

    @Test func emptyAndOversizedSecretsAreRefused() throws {
        let tpm = try context()
        for size in [0, 257] {
            let error = #expect(throws: OperatorError.self) { try tpm.seal(Data(count: size)) }
            #expect(error?.status == .usage && error?.problem == "a TPM seals 1 to 256 bytes, not \(size)")
        }
    }

    @Test func randomBytesAnyCount() throws {
        let tpm = try context()
        #expect(try tpm.randomBytes(0).isEmpty)
        #expect(try tpm.randomBytes(1).count == 1)
        let long = try tpm.randomBytes(200) // more than one TPM2_GetRandom
        #expect(long.count == 200 && Set(long).count > 64)
        #expect(try tpm.randomBytes(32) != tpm.randomBytes(32))
    }

    @Test func unreachableTCTIIsAClearError() throws {
        let port = try LoopbackPort.freePair()
        let tcti = "swtpm:host=127.0.0.1,port=\(port)"
        let error = #expect(throws: OperatorError.self) { try TPMContext(tcti: tcti) }
        #expect(error?.problem.hasPrefix("cannot reach the TPM at \(tcti): ") == true)
        #expect(error?.remedy?.contains("swtpm is running") == true)
        let unknown = #expect(throws: OperatorError.self) { try TPMContext(tcti: "no-such-tcti:x") }
        #expect(unknown?.problem.hasPrefix("cannot reach the TPM at no-such-tcti:x") == true)
    }
}

/// Runs `body` with the TCTI of a fresh swtpm (its own state folder, free loopback ports, started without
/// TPM2_Startup), and stops and removes it afterwards, also when `body` fails.
func withScratchSwtpm(_ body: (String) throws -> Void) throws {
    let directory = try makeTemporaryDirectory("valkyrie-swtpm")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let port = try LoopbackPort.freePair()
    let tcti = "swtpm:host=127.0.0.1,port=\(port)"
    // A child in the foreground, not `--daemon`: a daemon keeps inherited pipes open and outlives the test.
    let swtpm = Process()
    swtpm.executableURL = URL(fileURLWithPath: try Subprocess.resolve("swtpm"))
    swtpm.arguments = [
        "socket", "--tpm2", "--tpmstate", "dir=\(directory)", "--flags", "not-need-init",
        "--server", "type=tcp,port=\(port),bindaddr=127.0.0.1", "--ctrl", "type=tcp,port=\(port + 1),bindaddr=127.0.0.1",
    ]
    swtpm.standardInput = FileHandle.nullDevice
    swtpm.standardOutput = FileHandle.nullDevice
    swtpm.standardError = FileHandle.nullDevice
    try swtpm.run()
    defer {
        // SIGKILL: a child spawned from a test's worker thread inherits its blocked SIGTERM.
        kill(swtpm.processIdentifier, SIGKILL)
        swtpm.waitUntilExit()
    }
    // Ready when it accepts a TPM session (the probe's session closes at once).
    var ready = false
    for _ in 0..<50 where !ready && swtpm.isRunning {
        ready = (try? TPMContext(tcti: tcti)) != nil
        if !ready { Thread.sleep(forTimeInterval: 0.1) }
    }
    try #require(ready, "the scratch swtpm on port \(port) did not come up")
    try body(tcti)
}

/// The TPM's wire form (big-endian, sized) of a sealed data object's public area, and the raw in-memory
/// TPMT_PUBLIC Vaulthalla writes instead (little-endian fields at tss2's offsets on 64-bit Linux: authPolicy
/// at 8, parameters at 76, unique at 96, 612 bytes in all). Only what a KEYEDHASH object with no scheme holds.
enum TPMWire {
    static func sized(_ bytes: some Collection<UInt8>) -> [UInt8] { bigEndian(bytes.count, 2) + bytes }

    static func marshalled(rawPublic raw: Data) -> [UInt8] {
        let raw = [UInt8](raw)
        let field = { (offset: Int, size: Int) in Array(raw[offset..<offset + size].reversed()) }
        let policy = Int(raw[8]) | Int(raw[9]) << 8, unique = Int(raw[96]) | Int(raw[97]) << 8
        let body = field(0, 2) + field(2, 2) + field(4, 4) + sized(raw[10..<10 + policy]) + field(76, 2)
            + sized(raw[98..<98 + unique])
        return sized(body)
    }

    static func rawPublic(marshalled wire: Data) throws -> Data {
        var wire = [UInt8](wire.dropFirst(2))[...] // the TPM2B size
        var raw = [UInt8](repeating: 0, count: 612)
        func take(_ count: Int) throws -> [UInt8] {
            try #require(wire.count >= count, "the marshalled public area is short")
            defer { wire = wire.dropFirst(count) }
            return Array(wire.prefix(count))
        }
        func put(_ bytes: [UInt8], at offset: Int) { raw.replaceSubrange(offset..<offset + bytes.count, with: bytes.reversed()) }
        func putSized(at offset: Int) throws { // a TPM2B: size, then as many bytes in order
            let size = try take(2)
            put(size, at: offset)
            let bytes = try take(Int(size[0]) << 8 | Int(size[1]))
            raw.replaceSubrange(offset + 2..<offset + 2 + bytes.count, with: bytes)
        }
        put(try take(2), at: 0) // type
        put(try take(2), at: 2) // nameAlg
        put(try take(4), at: 4) // objectAttributes
        try putSized(at: 8) // authPolicy
        put(try take(2), at: 76) // keyedHashDetail.scheme: NULL, so no details follow
        try putSized(at: 96) // unique.keyedHash
        return Data(raw)
    }

    private static func bigEndian(_ value: Int, _ size: Int) -> [UInt8] {
        (0..<size).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}
