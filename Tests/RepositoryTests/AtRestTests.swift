import Foundation
@testable import Repository
import Testing

/// The repository at rest holds no plaintext: names, contents and metadata are all encrypted.
@Suite struct AtRestTests {
    @Test("a canary in a file's content, its name, a folder name, an xattr and the set metadata appears in no repository byte")
    func canary() async throws {
        let scratch = Scratch()
        let canary = "VALKYRIE-CANARY-7f3e9a"
        let source = scratch.sub("source")
        scratch.write("source/\(canary)-folder/\(canary)-name.txt", Data(String(repeating: "secret \(canary) content\n", count: 5000).utf8))
        scratch.write("source/plain.txt", Data(canary.utf8))
        let repository = try await Fixture.repository(scratch.sub("repo"))
        let writer = try await repository.beginSet()
        let result = try await writer.storeDirectory(at: source)
        _ = try await writer.commit(metadata: .object(["tag": .string(canary)]), roots: ["item": .tree(result.tree)])

        let needles = [Data(canary.utf8), Data(canary.utf8.reversed()), Data(canary.lowercased().utf8),
                       Data(canary.utf8).base64EncodedData()]
        let files = Fixture.files(under: "\(scratch.path)/repo")
        #expect(files.count >= 5) // config, key, two packs, index, snapshot
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            for needle in needles {
                #expect(bytes.range(of: needle) == nil, "\(file) contains the canary")
            }
        }
    }
}
