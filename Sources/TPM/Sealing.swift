import CTSS2
import Foundation
import Support

/// Sealing exactly as Vaulthalla's TPMKeyProvider does, so blobs move both ways between it and Valkyrie.
extension TPMContext {
    /// Seals `secret` (1 to 256 bytes; a TPM may allow fewer) under a primary key of the owner hierarchy.
    public func seal(_ secret: Data) throws -> SealedBlob {
        var sensitive = TPM2B_SENSITIVE_CREATE()
        defer { Self.wipe(&sensitive) }
        let capacity = Self.capacity(of: \TPM2B_SENSITIVE_DATA.buffer)
        // The TPM refuses to seal nothing (inconsistent attributes), so say so before asking it.
        guard (1...capacity).contains(secret.count) else {
            throw OperatorError.badInput("a TPM seals 1 to \(capacity) bytes, not \(secret.count)")
        }
        sensitive.sensitive.data.size = UInt16(secret.count)
        withUnsafeMutableBytes(of: &sensitive.sensitive.data.buffer) { _ = secret.copyBytes(to: $0) }
        var template = Self.sealedObjectTemplate()
        var outsideInfo = TPM2B_DATA()
        var creationPCR = TPML_PCR_SELECTION()

        let parent = try createPrimary()
        defer { flush(parent) }
        var outPrivate: UnsafeMutablePointer<TPM2B_PRIVATE>?
        var outPublic: UnsafeMutablePointer<TPM2B_PUBLIC>?
        defer {
            Esys_Free(outPrivate)
            Esys_Free(outPublic)
        }
        let rc = Esys_Create(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                             &sensitive, &template, &outsideInfo, &creationPCR,
                             &outPrivate, &outPublic, nil, nil, nil)
        guard rc == TSS2_RC_SUCCESS, let outPrivate, let outPublic else {
            throw failure("sealing (TPM2_Create)", rc)
        }
        // Vaulthalla writes the public area as the bytes of the C struct, not in the TPM's marshalled form;
        // the blob keeps that form so it is byte-for-byte a Vaulthalla `.pub`. It is only meaningful to the
        // same struct layout (tss2 on 64-bit Linux: 612 bytes).
        return SealedBlob(
            privateArea: Self.bytes(of: &outPrivate.pointee.buffer, count: Int(outPrivate.pointee.size)),
            publicArea: Self.bytes(of: &outPublic.pointee.publicArea, count: MemoryLayout<TPMT_PUBLIC>.size))
    }

    /// Unseals a blob sealed by this TPM (by Valkyrie or by Vaulthalla), re-creating the same primary key.
    public func unseal(_ blob: SealedBlob) throws -> Data {
        var inPrivate = TPM2B_PRIVATE()
        let capacity = Self.capacity(of: \TPM2B_PRIVATE.buffer)
        guard (1...capacity).contains(blob.privateArea.count) else {
            throw OperatorError.badInput(
                "the sealed blob's private part is \(blob.privateArea.count) bytes, not 1 to \(capacity)",
                remedy: "use the .priv file of the same .sealed_* folder, unchanged")
        }
        guard blob.publicArea.count == MemoryLayout<TPMT_PUBLIC>.size else {
            throw OperatorError.badInput(
                "the sealed blob's public part is \(blob.publicArea.count) bytes, not the \(MemoryLayout<TPMT_PUBLIC>.size) of a TPMT_PUBLIC",
                remedy: "use the .pub file of the same .sealed_* folder, unchanged")
        }
        inPrivate.size = UInt16(blob.privateArea.count)
        withUnsafeMutableBytes(of: &inPrivate.buffer) { _ = blob.privateArea.copyBytes(to: $0) }
        // The TPM2B's size is left 0: ESAPI marshals the public area and computes it.
        var inPublic = TPM2B_PUBLIC()
        withUnsafeMutableBytes(of: &inPublic.publicArea) { _ = blob.publicArea.copyBytes(to: $0) }

        let parent = try createPrimary()
        defer { flush(parent) }
        var object: ESYS_TR = ESYS_TR_NONE
        var rc = Esys_Load(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &inPrivate, &inPublic, &object)
        guard rc == TSS2_RC_SUCCESS else {
            throw failure("loading the sealed blob (TPM2_Load)", rc,
                          remedy: "the blob was sealed by another TPM or an earlier TPM state, or it is damaged")
        }
        defer { flush(object) }
        var secret: UnsafeMutablePointer<TPM2B_SENSITIVE_DATA>?
        defer {
            if let secret { Self.wipe(&secret.pointee) }
            Esys_Free(secret)
        }
        rc = Esys_Unseal(esys, object, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &secret)
        guard rc == TSS2_RC_SUCCESS, let secret else {
            throw failure("unsealing (TPM2_Unseal)", rc)
        }
        return Self.bytes(of: &secret.pointee.buffer, count: Int(secret.pointee.size))
    }

    /// Vaulthalla's parent key, re-created on every use (the same template gives the same key on one TPM).
    private func createPrimary() throws -> ESYS_TR {
        var sensitive = TPM2B_SENSITIVE_CREATE()
        var template = Self.primaryTemplate()
        var outsideInfo = TPM2B_DATA()
        var creationPCR = TPML_PCR_SELECTION()
        var handle: ESYS_TR = ESYS_TR_NONE
        let rc = Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                    &sensitive, &template, &outsideInfo, &creationPCR,
                                    &handle, nil, nil, nil, nil)
        guard rc == TSS2_RC_SUCCESS else {
            throw failure("creating the primary key (TPM2_CreatePrimary, owner hierarchy)", rc,
                          remedy: "check that the owner hierarchy has an empty password and the TPM has free object slots")
        }
        return handle
    }

    /// RSA-2048 restricted decryption key, AES-128-CFB, SHA-256 names, empty auth, no policy, no PCRs.
    private static func primaryTemplate() -> TPM2B_PUBLIC {
        var template = objectTemplate(TPM2_ALG_RSA, TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT
            | TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN
            | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA)
        template.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES
        template.publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128
        template.publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB
        template.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL
        template.publicArea.parameters.rsaDetail.keyBits = 2048
        template.publicArea.parameters.rsaDetail.exponent = 0 // the default, 65537
        return template
    }

    /// A sealed data object: KEYEDHASH without a scheme, usable with the empty password, no dictionary lockout.
    private static func sealedObjectTemplate() -> TPM2B_PUBLIC {
        var template = objectTemplate(TPM2_ALG_KEYEDHASH, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT
            | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA)
        template.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL
        return template
    }

    /// An object of `type` with SHA-256 names, the given attributes, no policy and an empty unique field.
    private static func objectTemplate(_ type: TPM2_ALG_ID, _ attributes: TPMA_OBJECT) -> TPM2B_PUBLIC {
        var template = TPM2B_PUBLIC()
        template.publicArea.type = type
        template.publicArea.nameAlg = TPM2_ALG_SHA256
        template.publicArea.objectAttributes = attributes
        return template
    }

    /// Zeroes a struct that held a secret, in a way the optimiser keeps.
    private static func wipe<T>(_ value: inout T) {
        withUnsafeMutableBytes(of: &value) { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
    }
}
