import Foundation
import Support
import Testing

@Suite struct ProcessMemoryTests {
    @Test("glibc takes the arena and mmap-threshold limits, and trimming after large frees works")
    func limitsAndTrim() {
        #expect(ProcessMemory.limitArenas())
        #expect(ProcessMemory.returnLargeBlocks())
        // Blocks above the threshold come and go; a trim afterwards is harmless and the heap stays usable.
        var blocks = (0..<8).map { Data(repeating: UInt8($0), count: Int(ProcessMemory.mmapThreshold) * 4) }
        #expect(blocks.allSatisfy { $0.count == Int(ProcessMemory.mmapThreshold) * 4 })
        blocks.removeAll()
        ProcessMemory.releaseFreePages()
        #expect(Data(repeating: 7, count: 1 << 20).allSatisfy { $0 == 7 })
    }
}
