import Foundation
import LibPQ
import Support

/// Removes a lab host: its swtpm, its database, its S3 objects, and its folder.
public enum LabTeardown {
    public static func destroy(root: String) async throws {
        let paths = LabPaths(root: root)
        let state = try LabState.load(paths)
        LabSwtpm.stop(root: root)
        let admin = try PGConnection(conninfo: state.database.adminConninfo)
        try admin.execute("DROP DATABASE IF EXISTS \(try admin.quoteIdentifier(state.database.name)) WITH (FORCE)")
        let s3 = try S3Publisher(state.s3)
        let vaults = Set(state.vaultKeys.map(\.vaultID))
        for id in vaults.sorted() {
            try await s3.empty(bucket: S3Publisher.bucketName(database: state.database.name, vaultID: id))
        }
        try FileManager.default.removeItem(atPath: paths.root)
    }
}
