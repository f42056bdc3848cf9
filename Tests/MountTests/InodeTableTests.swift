import Foundation
import FUSE
@testable import Mount
import Testing

/// The inode table holds a place exactly as long as the kernel does (FUSE's lookup count), so browsing a large
/// catalog does not grow the mount's memory.
@Suite struct InodeTableTests {
    let set = UUID(uuidString: "8D8AC610-566D-4EF1-9F52-2F6B0D0C2A11")!

    @Test func aPlaceIsHeldFromLookupUntilEveryReferenceIsForgotten() {
        let table = InodeTable()
        let place = Place.path(set, "/etc/vaulthalla/config.yaml")
        let number = table.number(for: place)
        #expect(table.place(of: number) == nil)  // a readdir entry is not held
        #expect(table.lookedUp(place) == number && table.lookedUp(place) == number)
        #expect(table.place(of: number) == place && table.count == 1)
        #expect(!table.forget(number, lookups: 1))
        #expect(table.place(of: number) == place)
        #expect(table.forget(number, lookups: 1))
        #expect(table.place(of: number) == nil && table.count == 0)
        // Known again on the next lookup, under the same number.
        #expect(table.lookedUp(place) == number)
    }

    @Test func numbersAreStableAndTheTopLevelIsFixed() {
        let place = Place.vault(set, vault: "finance", path: "/2026/q3.xlsx")
        #expect(InodeTable().number(for: place) == InodeTable().number(for: place))
        #expect(InodeTable().number(for: place) >= 1 << 63)
        let table = InodeTable()
        #expect(table.lookedUp(.sets) == 2 && table.place(of: 2) == .sets && table.count == 0)
        #expect(!table.forget(2, lookups: 1) && table.place(of: 2) == .sets)
        #expect(!table.forget(12345, lookups: 1))
    }
}

/// The same through the filesystem's own calls: `lookup` holds a place, `readdir` does not, `forget` lets it go
/// together with the index row kept for it.
@Suite struct ForgetTests {
    @Test func theFilesystemHoldsOnlyWhatTheKernelHolds() async throws {
        let lab = try await LabSet.make(bigFileBytes: 1 << 20)
        let filesystem = try MountFilesystem(catalog: lab.catalog, repository: lab.repository, keys: .none,
                                             mountpoint: "\(lab.folder)/unmounted", log: { _ in })
        let name = lab.sets[0].name
        try await onThread {
            let set = try filesystem.lookup(parent: 2, name: name).inode
            let listed = try filesystem.entries(of: set)
            let etc = try #require(listed.first { $0.name == "etc" })
            #expect(filesystem.inodes.count == 1)
            #expect(throws: FUSEError(ENOENT)) { try filesystem.attributes(of: etc.inode) }
            #expect(try filesystem.lookup(parent: set, name: "etc").inode == etc.inode)
            let config = try filesystem.lookup(parent: try filesystem.lookup(parent: etc.inode, name: "vaulthalla").inode, name: "config.yaml")
            #expect(filesystem.inodes.count == 4 && filesystem.known.withLock { $0[config.inode] } != nil)
            filesystem.forget(config.inode, lookups: 1)
            #expect(throws: FUSEError(ENOENT)) { try filesystem.attributes(of: config.inode) }
            #expect(filesystem.inodes.count == 3 && filesystem.known.withLock { $0[config.inode] } == nil)
            filesystem.forget(etc.inode, lookups: 1)
            #expect(throws: FUSEError(ENOENT)) { try filesystem.attributes(of: etc.inode) }
            #expect(try filesystem.attributes(of: set).kind == .directory)
        }
    }
}
