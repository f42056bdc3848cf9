@testable import Capture
import Catalog
import Foundation
import GPG
import Lab
import POSIX
import Repository
import Support
import Synchronization
import Testing
import Vaulthalla

/// Backups of a tiny lab host with the real services: every item of the set, the catalog's view of it, the
/// exports against the lab's ground truth, and a second backup that reuses what did not change.
@Suite(.serialized) struct BackupTests {
    @Test("a full set holds every root of docs/set-layout.md; a second backup reuses files, objects and chunks")
    func fullThenIncremental() async throws {
        let lab = try CaptureHarness()
        defer { lab.close() }
        let (first, catalog, repository) = try await lab.backup()
        #expect(first.status == "complete", "\(first.mismatches) \(first.items.flatMap(\.warnings))")
        let roots = Set(first.items.map(\.item))
        #expect(roots == [SetLayout.postgres, SetLayout.etc, SetLayout.varLib, SetLayout.swtpm, SetLayout.exports, SetLayout.keys,
                          SetLayout.s3, SetLayout.s3Objects, SetLayout.vaultIndex, SetLayout.version])
        #expect(first.excluded.contains { $0.hasSuffix("/.fuse-plaintext/") } && first.excluded.contains { $0.hasSuffix("/.cache/") })

        // The catalog lists it as complete, with every item, the exports and the indexes.
        let set = try #require(try catalog.sets(host: lab.host).last)
        #expect(set.status == .complete && set.name == first.set)
        let details = try catalog.details(of: set)
        #expect(Set(details.items.map(\.item)) == roots)
        #expect(details.items.filter(\.keyMaterial).map(\.item).sorted() == [SetLayout.exports, SetLayout.keys, SetLayout.swtpm].sorted())
        let state = try lab.state
        let vaults = Set(state.vaultKeys.map(\.vaultID)).count
        #expect(details.exports.count == 2 + vaults)
        #expect(try catalog.file("/etc/vaulthalla/config.yaml", in: set) != nil)
        // Every item's event carries its digest, size and duration.
        let captured = try catalog.events(EventFilter(type: .itemCaptured, set: set.id)).compactMap { $0.decode(ItemCaptured.self) }
        #expect(captured.count == roots.count && captured.allSatisfy { !$0.digest.isEmpty && $0.seconds != nil && $0.size >= 0 })
        // Items taken at once (the dump, the walks, the buckets) are still recorded in the set's order.
        #expect(captured.map(\.item) == [SetLayout.postgres, SetLayout.etc, SetLayout.varLib, SetLayout.swtpm, SetLayout.exports,
                                          SetLayout.keys, SetLayout.s3, SetLayout.s3Objects, SetLayout.vaultIndex, SetLayout.version])
        #expect(first.items.map(\.item) == captured.map(\.item))
        #expect(try catalog.listDirectory("/var/lib/vaulthalla", in: set).contains { $0.entry.path.hasSuffix("/.sealed_vault_master.blob") })
        #expect(try catalog.listDirectory("/var/lib/vaulthalla", in: set).allSatisfy { !$0.entry.path.hasSuffix("/.fuse-plaintext") })

        // The snapshot: its metadata names the set; the vault index holds every file of the database.
        let snapshot = try #require(try await repository.snapshots().first { $0.id.hex == first.snapshot })
        let metadata = try snapshot.snapshot.metadata.decode(as: SnapshotMetadata.self)
        #expect(metadata.set == set.id && metadata.version.vhVersion == "Vaulthalla v\(state.vaulthallaVersion)")
        #expect(metadata.version.tpmMode == "swtpm" && metadata.version.swtpmStatePresent)
        #expect(metadata.version.counts["users"] ?? 0 > 0 && metadata.version.counts["shares"] != nil)
        let db = try VaulthallaDatabase(conninfo: state.database.conninfo)
        let fileCount = try db.vaults().reduce(0) { $0 + (try db.files(vaultID: $1.id).count) }
        let indexRoot = try #require(snapshot.snapshot.roots[SetLayout.vaultIndex])
        let indexNode = try #require(try await repository.node(at: "", in: indexRoot))
        let indexLines = try await repository.read(indexNode, offset: 0, length: Int(indexNode.size)).split(separator: UInt8(ascii: "\n"))
        #expect(indexLines.count == fileCount)

        // The key export decrypts with the operator's key to exactly the lab's current keys.
        let gpg = try GPGContext(homeDirectory: CaptureHarness.environment["VALKYRIE_TEST_GNUPGHOME"])
        let exportsRoot = try #require(snapshot.snapshot.roots[SetLayout.exports])
        let keysNode = try #require(try await repository.node(at: "vault-keys.json.asc", in: exportsRoot))
        let armored = try await repository.read(keysNode, offset: 0, length: Int(keysNode.size))
        #expect(armored.starts(with: Data("-----BEGIN PGP MESSAGE-----".utf8)))
        let exported = try VaultKeyExport.parse(try gpg.decrypt(armored))
        #expect(exported.count == vaults)
        for entry in exported {
            #expect(state.key(vault: entry.vaultID, version: entry.keyInfo.keyVersion) == (try entry.keyBytes()))
        }
        if case let .tree(keysTree) = try #require(snapshot.snapshot.roots[SetLayout.keys]) {
            let names = try await repository.tree(keysTree).nodes.map(\.name)
            #expect(names.count == vaults && names.allSatisfy { $0.hasSuffix(".json.asc") })
        }

        // S3 objects carry their user metadata as xattrs; the bucket manifest is there.
        var sawManifest = false, sawMetadata = false
        if case let .tree(s3Tree) = try #require(snapshot.snapshot.roots[SetLayout.s3]) {
            try await repository.walk(s3Tree) { path, node in
                if path.hasSuffix(".vaulthalla/index-v1.json") { sawManifest = true }
                if node.xattrs?.contains(where: { $0.name == "user.vh-iv" }) == true { sawMetadata = true }
            }
        }
        #expect(sawManifest && sawMetadata)

        // The second backup of the unchanged host: files and objects taken over, little new data.
        let (second, catalog2, repository2) = try await lab.backup()
        #expect(second.status == "complete")
        let s3Item = try #require(second.items.first { $0.item == SetLayout.s3 })
        #expect(s3Item.reused == s3Item.files && s3Item.files > 0 && s3Item.bytesRead == 0)
        // A folder takes the newest time of its objects, so unchanged buckets are the same s3 tree, and the object
        // list leaves the metadata to the tree's xattrs.
        let secondSnapshot = try #require(try await repository2.snapshots().first { $0.id.hex == second.snapshot })
        #expect(secondSnapshot.snapshot.roots[SetLayout.s3] == snapshot.snapshot.roots[SetLayout.s3])
        let listRoot = try #require(secondSnapshot.snapshot.roots[SetLayout.s3Objects])
        let listNode = try #require(try await repository2.node(at: "", in: listRoot))
        let listLines = try await repository2.read(listNode, offset: 0, length: Int(listNode.size)).split(separator: UInt8(ascii: "\n"))
        #expect(!listLines.isEmpty && listLines.allSatisfy { !String(decoding: $0, as: UTF8.self).contains("\"metadata\"") })
        // The unchanged list is a patch on the first set's, and the next backup took every object from it (above).
        #expect(listNode.patchBase != nil)
        #expect(try listLines.map { try JSONFormat.decoder().decode(S3ObjectLine.self, from: Data($0)) }.allSatisfy { !$0.etag.isEmpty })
        let varLib = try #require(second.items.first { $0.item == SetLayout.varLib })
        #expect(varLib.reused == varLib.files && varLib.bytesRead == 0)
        #expect(second.bytesAdded < first.bytesAdded / 2, "first added \(first.bytesAdded), second \(second.bytesAdded)")
        #expect(try catalog2.sets(host: lab.host).count == 2)

        // A day of use later: the changed files are read again, the rest reused; the set is still coherent.
        let mutated = try lab.lab(["mutate", "--day", "1"])
        #expect(mutated.status == 0, "\(mutated.stderrText)")
        let (third, catalog3, repository3) = try await lab.backup()
        #expect(third.status == "complete", "\(third.mismatches)")
        #expect(third.reusedFiles > 0 && third.bytesRead > 0)
        // Objects are taken over from the second set's object list, a patch.
        #expect(try #require(third.items.first { $0.item == SetLayout.s3 }).reused > 0)
        // The day's dump is a patch on the first set's, and reads back as the dump pg_dump wrote (its SHA-256).
        let thirdSnapshot = try #require(try await repository3.snapshots().first { $0.id.hex == third.snapshot })
        let thirdPostgres = try #require(thirdSnapshot.snapshot.roots[SetLayout.postgres])
        let firstPostgres = try #require(snapshot.snapshot.roots[SetLayout.postgres])
        let dump = try #require(try await repository3.node(at: "vaulthalla.dump", in: thirdPostgres))
        let firstDump = try #require(try await repository3.node(at: "vaulthalla.dump", in: firstPostgres))
        #expect(firstDump.patchBase == nil && dump.patchBase == firstDump.content)
        let dumpBytes = try await repository3.read(dump, offset: 0, length: Int(dump.size))
        let postgres = try #require(third.items.first { $0.item == SetLayout.postgres })
        #expect(postgres.digest == "sha256:" + BlobID.sha256(dumpBytes).hex)
        #expect((dump.content ?? []).count == 1 && dump.size > 0)
        // The vault index too: the second and third sets' are patches on the first's (the base, never a patch),
        // and read back, by the repository and by the next backup's previous set, as the lines the catalog indexed.
        var thirdIndex = indexNode
        for stored in [secondSnapshot, thirdSnapshot] {
            let root = try #require(stored.snapshot.roots[SetLayout.vaultIndex])
            thirdIndex = try #require(try await repository3.node(at: "", in: root))
            #expect(indexNode.patchBase == nil && thirdIndex.patchBase == indexNode.content)
        }
        let thirdLines = try await repository3.read(thirdIndex, offset: 0, length: Int(thirdIndex.size)).split(separator: UInt8(ascii: "\n"))
        let thirdSet = try #require(try catalog3.sets(host: lab.host).last)
        #expect(thirdLines.count == (try catalog3.vaultEntries(of: thirdSet).filter { $0.entry.kind == .file }.count))
        var later = thirdSet
        later.ordinal += 1
        let previous = try #require(try PreviousSet.find(catalog: catalog3, host: lab.host, before: later, repository: repository3))
        let verified = try await previous.verifiedHashes()
        let decoded = try thirdLines.map { try JSONFormat.decoder().decode(VaultIndexLine.self, from: Data($0)) }.filter { $0.hashVerified == true }
        #expect(!verified.isEmpty && verified.count == Set(decoded.map(\.backingPath)).count)
        #expect(decoded.allSatisfy { verified[$0.backingPath] == $0.contentHash })
        let report = try await Verifier(repository: repository3).verify(readPercent: 100)
        #expect(report.isClean)
    }

    @Test("bodies that differ from the vault index are listed per file and make the set partial")
    func coherenceMismatches() async throws {
        let lab = try CaptureHarness()
        defer { lab.close() }
        let state = try lab.state
        let db = try VaulthallaDatabase(conninfo: state.database.conninfo)
        let local = try #require(try db.vaults().first { $0.type == "local" && !$0.deleted })
        let files = try db.files(vaultID: local.id).filter { $0.sizeBytes > 0 && !($0.encryptionIV ?? "").isEmpty }
        let flipped = files[0], truncated = files[1]
        let paths = HostPaths(root: lab.root)
        // A clean set first: its matched hashes must not hide the damage from the next set.
        let (clean, _, _) = try await lab.backup()
        #expect(clean.status == "complete" && clean.mismatches.isEmpty)
        var body = try #require(FileManager.default.contents(atPath: paths.bodyPath(flipped.backingPath)))
        body[body.startIndex] ^= 0xFF
        try body.write(to: URL(fileURLWithPath: paths.bodyPath(flipped.backingPath)))
        try Data(count: 3).write(to: URL(fileURLWithPath: paths.bodyPath(truncated.backingPath)))

        let (summary, catalog, _) = try await lab.backup()
        #expect(summary.status == "partial")
        #expect(summary.mismatches.count == 2)
        #expect(summary.mismatches.contains { $0.contains(flipped.logicalPath) && $0.contains("content_hash") })
        #expect(summary.mismatches.contains { $0.contains(truncated.logicalPath) && $0.contains("3 bytes") })
        let set = try #require(try catalog.sets(host: lab.host).last)
        #expect(set.status == .partial && set.warnings.count == 2)
        #expect(try catalog.sets(host: lab.host).count == 2)

        // Without hash checks only the size mismatch remains.
        var settings = try lab.settings()
        settings.verifyContentHashes = false
        let (sizeOnly, _, _) = try await lab.backup(settings)
        #expect(sizeOnly.mismatches.count == 1 && sizeOnly.mismatches[0].contains(truncated.logicalPath))
    }

    @Test("vh's own encryption: the file is checked for armor, recipient and content; wrong recipient and wrong path are refused")
    func vhEncrypts() async throws {
        let lab = try CaptureHarness()
        defer { lab.close() }
        // The daemon's gpg finds the recipient in its keyring: the lab's vh runs gpg with the caller's GNUPGHOME.
        let vh = try lab.wrapVh(name: "vh-daemon", sed: "")
        let (good, _, _) = try await lab.backup(try lab.settings(vh: vh, mode: .vhEncrypts))
        #expect(good.status == "complete")

        // A vh that encrypts to another key than asked.
        let other = CaptureHarness.environment["VALKYRIE_TEST_GPG_OTHER_FPR"]!
        let wrongKey = try lab.wrapVh(name: "vh-other-key", sed: "s/--recipient [^ ]*/--recipient \(other)/")
        await #expect { _ = try await lab.backup(try lab.settings(vh: wrongKey, mode: .vhEncrypts)) } throws: { error in
            "\(error)".contains("not to \(CaptureHarness.environment["VALKYRIE_TEST_GPG_FPR"]!)")
        }
        // A vh that writes somewhere else.
        let elsewhere = try lab.wrapVh(name: "vh-elsewhere", sed: "s|--output \\([^ ]*\\)|--output \\1.moved|")
        await #expect { _ = try await lab.backup(try lab.settings(vh: elsewhere, mode: .vhEncrypts)) } throws: { error in
            "\(error)".contains("did not write")
        }
        let catalog = try Catalog.open(at: lab.catalogPath)
        let sets = try catalog.sets(all: true, host: lab.host)
        #expect(sets.map(\.status) == [.complete, .failed, .failed])
        #expect(sets.filter { $0.status == .failed }.allSatisfy { $0.error?.contains("vh") == true || $0.error?.contains("not to") == true })
        // No export, plaintext or encrypted, is left in the temp folder.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: lab.folder).filter { $0.hasPrefix("valkyrie-export-") }
        #expect(leftovers.isEmpty)
    }
}

/// Files that vanish, appear and change while the walk runs: the set is still taken (complete, or partial with
/// each skipped file named), never failed, and the repository verifies.
@Suite struct ChurnTests {
    @Test("files vanishing and changing during the walk")
    func churn() async throws {
        let lab = try CaptureHarness()
        defer { lab.close() }
        let folder = "\(HostPaths(root: lab.root).dataDirectory)/churn"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<200 { try Data(count: 4096 + i).write(to: URL(fileURLWithPath: "\(folder)/f\(i)")) }
        let stop = Mutex(false)
        let churner = Thread {
            var round = 0
            while !stop.withLock({ $0 }) {
                for i in 0..<200 {
                    let path = "\(folder)/f\(i)"
                    if (i + round) % 2 == 0 { unlink(path) } else { try? Data(count: 100 + round).write(to: URL(fileURLWithPath: path)) }
                }
                round += 1
            }
        }
        churner.start()
        let result = await Result(catching: { try await lab.backup() })
        stop.withLock { $0 = true }
        let (summary, _, repository) = try result.get()
        #expect(summary.status == "complete" || summary.status == "partial")
        let warnings = summary.items.flatMap(\.warnings)
        #expect(warnings.allSatisfy { $0.contains("/churn/") }, "\(warnings)")
        #expect(summary.status == (warnings.isEmpty ? "complete" : "partial"))
        #expect(try await Verifier(repository: repository).verify().isClean)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension CaptureHarness {
    /// A `vh` whose gpg uses the test keyring, rewriting its arguments with `sed` before calling the lab's (an
    /// export that goes astray).
    func wrapVh(name: String, sed: String) throws -> String {
        let path = "\(folder)/\(name)"
        let home = CaptureHarness.environment["VALKYRIE_TEST_GNUPGHOME"]!
        let script = "#!/bin/sh\nexport GNUPGHOME='\(home)'\nargs=$(echo \"$*\" | sed '\(sed)')\nexec '\(root)/bin/vh' $args\n"
        try Data(script.utf8).write(to: URL(fileURLWithPath: path))
        try POSIX.chmod(path, 0o755)
        return path
    }
}
