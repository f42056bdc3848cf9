/// How big a lab host is. Only tiny and small run in the test suite.
public enum Profile: String, CaseIterable, Sendable, Codable {
    case tiny, small, medium, large

    /// Users besides the super admin.
    var users: Int { [.tiny: 3, .small: 8, .medium: 40, .large: 200][self]! }
    var groups: Int { [.tiny: 2, .small: 4, .medium: 10, .large: 30][self]! }
    /// Active local and S3 vaults (a deleted-but-unpurged local vault comes on top).
    var localVaults: Int { [.tiny: 2, .small: 3, .medium: 5, .large: 8][self]! }
    var s3Vaults: Int { [.tiny: 1, .small: 2, .medium: 2, .large: 2][self]! }
    /// Files per vault (the deleted vault gets a tenth).
    var filesPerVault: Int { [.tiny: 12, .small: 150, .medium: 3_700, .large: 100_000][self]! }
    /// Upper bound of an ordinary file's size; sizes are skewed towards small.
    var maxFileSize: Int { [.tiny: 16 << 10, .small: 256 << 10, .medium: 384 << 10, .large: 4 << 10][self]! }
    /// Subfolders per folder and how deep ordinary trees go.
    var fanOut: Int { [.tiny: 2, .small: 4, .medium: 8, .large: 24][self]! }
    var maxDepth: Int { [.tiny: 3, .small: 4, .medium: 5, .large: 6][self]! }
    /// One file of this size in the first local vault (0: none).
    var largeFileSize: Int { [.tiny: 0, .small: 0, .medium: 256 << 20, .large: 0][self]! }
}
