// swift-tools-version:6.1
// Valkyrie: disaster-recovery sets for Vaulthalla hosts. Layout and module boundaries: ../shared/DESIGN.md.
import PackageDescription

/// One system-library target per C library; only its Swift wrapper imports it.
func cLibrary(_ name: String, pkgConfig: String? = nil, apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

let package = Package(
    name: "valkyrie",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "valkyrie", targets: ["valkyrie"]),
        .executable(name: "vaulthalla-lab", targets: ["vaulthalla-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        // C libraries, each behind one thin wrapper module that owns every pointer.
        cLibrary("CZstd", pkgConfig: "libzstd", apt: ["libzstd-dev"]),
        cLibrary("CSodium", pkgConfig: "libsodium", apt: ["libsodium-dev"]),
        cLibrary("CGPGME", apt: ["libgpgme-dev"]),
        cLibrary("CTSS2", apt: ["libtss2-dev"]),
        cLibrary("CLibPQ", apt: ["libpq-dev"]),
        cLibrary("CFUSE3", pkgConfig: "fuse3", apt: ["libfuse3-dev"]),
        cLibrary("CSQLite", apt: ["libsqlite3-dev"]),
        cLibrary("CPOSIX", apt: ["libc6-dev"]),
        cLibrary("COpenSSL", apt: ["libssl-dev"]),
        .target(name: "Zstd", dependencies: ["CZstd", "Support"]),
        .target(name: "Sodium", dependencies: ["CSodium", "Support"]),
        .target(name: "GPG", dependencies: ["CGPGME", "Support"]),
        .target(name: "TPM", dependencies: ["CTSS2", "Support"]),
        .target(name: "LibPQ", dependencies: ["CLibPQ", "Support"]),
        .target(name: "FUSE", dependencies: ["CFUSE3", "Support"]),
        .target(name: "TLS", dependencies: ["COpenSSL", "POSIX", "Support"]),

        // Shared plumbing: operator-facing errors and exit codes, subprocesses, JSON and time formats.
        .target(name: "Support", dependencies: ["SystemShims"]),
        .target(name: "SystemShims"),

        // The modules of DESIGN.md, dependencies pointing down the picture.
        .target(name: "Catalog", dependencies: [grdb, crypto, "CSQLite", "Support"], path: "catalog",
                exclude: ["canonical-encoding.md"], resources: [.copy("migrations")]),
        .target(name: "S3", dependencies: [crypto, "POSIX", "TLS", "Support"]),
        .target(name: "POSIX", dependencies: ["CPOSIX", "Support"]),
        .target(name: "Repository", dependencies: [crypto, "Zstd", "Sodium", "GPG", "TPM", "S3", "POSIX", "Support"]),
        .target(name: "Vaulthalla", dependencies: [crypto, "Sodium", "LibPQ", yams, "Support"]),
        .target(name: "Lab", dependencies: ["Vaulthalla", "LibPQ", "GPG", "TPM", "S3", crypto, "Sodium", yams, "Support"]),
        .target(name: "Capture", dependencies: ["Repository", "Catalog", "Vaulthalla", "LibPQ", "GPG", "S3", "POSIX", "Sodium",
                                                "Zstd", crypto, "Support"]),
        .target(name: "Drill", dependencies: ["Capture", "Repository", "Catalog", "Vaulthalla", "LibPQ", "TPM", "GPG", "Support"]),
        .target(name: "Restore", dependencies: ["Capture", "Catalog", "Repository", "Vaulthalla", "GPG", "Sodium", "POSIX", "Support"]),
        .target(name: "Retention", dependencies: ["Capture", "Catalog", "Repository", "Support"]),
        .target(name: "Mount", dependencies: ["FUSE", "Catalog", "Repository", "Vaulthalla", "GPG", "Sodium", "Support"],
                path: "mount"),

        // Executables: thin command layers.
        .executableTarget(name: "valkyrie", dependencies: [
            argumentParser, logging, yams, "Catalog", "Repository", "S3", "Vaulthalla", "Mount", "Capture", "Drill", "GPG", "LibPQ",
            "Restore", "Retention", "Support",
        ]),
        .executableTarget(name: "vaulthalla-lab", dependencies: [argumentParser, "Lab", "Support"]),
        // Benchmarks (`swift run -c release catalog-bench`); its `append` mode is also the catalog tests' writer process.
        .executableTarget(name: "catalog-bench", dependencies: ["Catalog", "Support"], path: "bench/catalog-bench"),
        // The repository's write-path benchmark, also the writer that the crash tests kill, and bench/run's one-core references.
        .executableTarget(name: "repository-bench", dependencies: ["Repository", "POSIX", "Sodium", "Zstd", crypto, "Support"],
                          path: "bench/repository-bench"),

        // Tests: one target per module, plus the end-to-end tests that drive the binaries.
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "WrapperTests", dependencies: ["Zstd", "Sodium", "GPG", "TPM", "LibPQ", "FUSE", "Support"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", grdb, crypto, "Support"]),
        .testTarget(name: "S3Tests", dependencies: ["S3", "Repository", "POSIX", "TLS", "Support"], resources: [.copy("Resources")]),
        .testTarget(name: "RepositoryTests", dependencies: ["Repository", "POSIX", "Sodium", "GPG", "Zstd", crypto, "Support"]),
        .testTarget(name: "VaulthallaTests", dependencies: ["Vaulthalla", "LibPQ", "Support"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Vaulthalla", "Support"], exclude: ["independent_check.py"]),
        .testTarget(name: "MountTests", dependencies: ["Mount", "FUSE", "Catalog", "Repository", "Vaulthalla", "GPG", "POSIX", "Sodium", "Support"]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "Catalog", "Repository", "Lab", "Vaulthalla", "GPG", "LibPQ", "POSIX", "S3",
                                                     "Support"]),
        .testTarget(name: "DrillTests", dependencies: ["Drill", "Capture", "Catalog", "Repository", "Vaulthalla", "GPG", "Support"]),
        .testTarget(name: "RestoreTests", dependencies: ["Restore", "Catalog", "Support"]),
        .testTarget(name: "RetentionTests", dependencies: ["Retention", "Capture", "Restore", "Catalog", "Repository", "POSIX", "Support"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Catalog", "Support"]),
    ]
)
