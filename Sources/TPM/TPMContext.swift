import CTSS2
import Foundation
import Support

/// One ESAPI session with a TPM (a device or swtpm), closed when the object goes away.
///
/// swtpm serves one connection at a time: keep a context only as long as the work needs it, and never hold
/// two on the same swtpm at once.
public final class TPMContext {
    /// The TCTI configuration, e.g. `swtpm:host=127.0.0.1,port=2321` or `device:/dev/tpmrm0`.
    public let tcti: String
    private var tctiContext: OpaquePointer?
    let esys: OpaquePointer

    public init(tcti: String) throws {
        Self.quietLibraryLog
        self.tcti = tcti
        var tctiContext: OpaquePointer?
        var rc = Tss2_TctiLdr_Initialize(tcti, &tctiContext)
        guard rc == TSS2_RC_SUCCESS, tctiContext != nil else {
            throw OperatorError.failed("cannot reach the TPM at \(tcti): \(Self.decode(rc))",
                                       remedy: "check that the TPM device exists or that swtpm is running and listening there")
        }
        var esys: OpaquePointer?
        rc = Esys_Initialize(&esys, tctiContext, nil)
        guard rc == TSS2_RC_SUCCESS, let esys else {
            Tss2_TctiLdr_Finalize(&tctiContext)
            throw OperatorError.failed("cannot open an ESAPI context on the TPM at \(tcti): \(Self.decode(rc))")
        }
        self.tctiContext = tctiContext
        self.esys = esys
        // A fresh swtpm needs TPM2_Startup; a started TPM answers TPM2_RC_INITIALIZE, which is fine.
        rc = Esys_Startup(esys, TPM2_SU(TPM2_SU_CLEAR))
        guard rc == TSS2_RC_SUCCESS || rc & 0xFFFF == Self.rcInitialize else {
            throw failure("TPM2_Startup", rc)
        }
    }

    deinit {
        var esys: OpaquePointer? = esys
        Esys_Finalize(&esys)
        Tss2_TctiLdr_Finalize(&tctiContext)
    }

    /// `count` bytes from the TPM's random number generator (TPM2_GetRandom, which returns at most a digest's
    /// worth per call).
    public func randomBytes(_ count: Int) throws -> Data {
        precondition(count >= 0, "randomBytes needs a count of zero or more")
        var out = Data(capacity: count)
        while out.count < count {
            var random: UnsafeMutablePointer<TPM2B_DIGEST>?
            let rc = Esys_GetRandom(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    UInt16(min(count - out.count, Self.capacity(of: \TPM2B_DIGEST.buffer))), &random)
            defer { Esys_Free(random) }
            guard rc == TSS2_RC_SUCCESS, let random, random.pointee.size > 0 else {
                throw failure("TPM2_GetRandom", rc)
            }
            out.append(Self.bytes(of: &random.pointee.buffer, count: Int(random.pointee.size)))
        }
        return out
    }

    /// An OperatorError naming the TPM, the step that failed and the TPM's own reason (never any secret).
    func failure(_ step: String, _ rc: TSS2_RC, remedy: String? = nil) -> OperatorError {
        .failed("TPM at \(tcti): \(step) failed: \(Self.decode(rc))", remedy: remedy)
    }

    /// Frees a transient object in the TPM, whose object slots are few.
    func flush(_ handle: ESYS_TR) {
        if handle != ESYS_TR_NONE { _ = Esys_FlushContext(esys, handle) }
    }

    static func decode(_ rc: TSS2_RC) -> String {
        let text = Tss2_RC_Decode(rc).map { String(cString: $0) } ?? "unknown error"
        return text + " (0x" + String(rc, radix: 16) + ")"
    }

    /// The size of a fixed C array field (imported as a tuple), e.g. a TPM2B's `buffer`.
    static func capacity<Root, Field>(of field: KeyPath<Root, Field>) -> Int { MemoryLayout<Field>.size }

    /// The first `count` bytes of a C array field, copied without an intermediate copy of the array.
    static func bytes<Field>(of field: inout Field, count: Int) -> Data {
        withUnsafeMutableBytes(of: &field) { Data($0.prefix(count)) }
    }

    /// TPM2_RC_INITIALIZE (TPM2_RC_VER1 + 0), which Swift does not import from its macro.
    private static let rcInitialize: TSS2_RC = 0x100

    /// tss2 logs every failure to stderr on its own; Valkyrie reports them as OperatorErrors instead. An
    /// operator's own TSS2_LOG setting wins.
    private static let quietLibraryLog: Void = { setenv("TSS2_LOG", "all+NONE", 0) }()
}
