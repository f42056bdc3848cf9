import Foundation

/// A secret sealed to one TPM, in Vaulthalla's on-disk form (`.sealed_<name>.blob/<name>.priv` and `.pub`).
public struct SealedBlob: Sendable, Equatable, Codable {
    /// The `TPM2B_PRIVATE` buffer bytes (its `size` bytes, without the size field): Vaulthalla's `.priv`.
    public var privateArea: Data
    /// A raw in-memory copy of the object's `TPMT_PUBLIC` (not TPM-marshalled): Vaulthalla's `.pub`.
    public var publicArea: Data

    public init(privateArea: Data, publicArea: Data) {
        self.privateArea = privateArea
        self.publicArea = publicArea
    }
}
