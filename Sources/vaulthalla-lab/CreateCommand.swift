import ArgumentParser
import Foundation
import Lab

struct CreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a Vaulthalla host in an empty folder (database, bodies, S3 objects, sealed blobs).")

    @OptionGroup var options: RootOptions

    @Option(help: "Seed: the same seed gives the same host.")
    var seed: UInt64 = 1

    @Option(help: "tiny, small, medium or large.")
    var profile: Profile = .small

    @Option(name: .customLong("files-per-vault"), help: "Files per vault in place of the profile's (S3 vaults keep at most 400).")
    var filesPerVault: Int?

    @Option(help: "libpq conninfo of the cluster (host=SOCKETDIR port=PORT user=SUPERUSER); default from VALKYRIE_TEST_PG*.")
    var pg: String?

    @Option(help: "Name of the host's database in that cluster.")
    var database = "vaulthalla"

    @Option(name: .customLong("s3-endpoint"), help: "S3 endpoint for the S3 vaults; default VALKYRIE_TEST_S3_ENDPOINT.")
    var s3Endpoint: String?

    func validate() throws {
        if let filesPerVault, filesPerVault < 1 { throw ValidationError("--files-per-vault must be at least 1") }
    }

    func run() async throws {
        try await reporting {
            let builder = HostBuilder(.init(
                root: options.root, seed: seed, profile: profile,
                database: try LabSettings.database(conninfo: pg, name: database), s3: try LabSettings.s3(endpoint: s3Endpoint),
                executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, filesPerVault: filesPerVault))
            let summary = try await builder.create()
            try options.emit(summary) {
                "created \(summary.root): \(summary.vaults) vaults, \(summary.files) files (\(summary.bytes) bytes of bodies), "
                    + "\(summary.s3Objects) S3 objects, database \(summary.database)"
            }
        }
    }
}

extension Profile: ExpressibleByArgument {}
