import Foundation
import Support
import Synchronization
import Testing

@Suite struct SizeBoundedCacheTests {
    private func bytes(_ count: Int, _ value: UInt8 = 1) -> Data { Data(repeating: value, count: count) }

    @Test func evictsTheLeastRecentlyUsedFirst() {
        let evicted = Mutex([Int]())
        let cache = SizeBoundedCache<Int>(capacity: 30) { data in evicted.withLock { $0.append(data.count) } }
        cache.insert(bytes(10), for: 1)
        cache.insert(bytes(11), for: 2)
        cache.insert(bytes(9), for: 3)
        #expect(cache[1] != nil) // 1 is now newer than 2 and 3
        cache.insert(bytes(5), for: 4) // 35 bytes: the oldest, 2, leaves
        #expect(cache[2] == nil)
        #expect(cache[1] != nil && cache[3] != nil && cache[4] != nil)
        cache.insert(bytes(20), for: 5) // needs 11 more: 1 (looked up before 3 and 4), then 3 leave
        #expect(cache[3] == nil && cache[1] == nil)
        #expect(cache[4]?.count == 5 && cache[5]?.count == 20)
        #expect(evicted.withLock { $0 } == [11, 10, 9])
    }

    @Test func refusesEntriesLargerThanAllowedAndKeepsTheFirstValue() {
        let cache = SizeBoundedCache<String>(capacity: 100, largestEntry: 10)
        cache.insert(bytes(11), for: "big")
        #expect(cache["big"] == nil)
        cache.insert(bytes(4, 1), for: "a")
        cache.insert(bytes(4, 2), for: "a")
        #expect(cache["a"] == bytes(4, 1))
    }

    @Test func staysWithinCapacityAcrossManyInsertsAndLookups() {
        let cache = SizeBoundedCache<Int>(capacity: 1000)
        for i in 0..<20_000 {
            cache.insert(bytes(10), for: i)
            // Keep the first key hot: it must survive every eviction.
            #expect(cache[0] != nil)
        }
        let kept = (0..<20_000).filter { cache[$0] != nil }
        #expect(kept.count == 100)
        #expect(kept.contains(0))
        #expect(kept.filter { $0 > 0 }.min() == 19_901)
    }

    @Test func removeAllEvictsEverything() {
        let evicted = Mutex(0)
        let cache = SizeBoundedCache<Int>(capacity: 100) { _ in evicted.withLock { $0 += 1 } }
        for i in 0..<5 { cache.insert(bytes(10), for: i) }
        cache.removeAll()
        #expect(evicted.withLock { $0 } == 5)
        #expect((0..<5).allSatisfy { cache[$0] == nil })
        cache.insert(bytes(10), for: 7)
        #expect(cache[7] != nil)
    }
}
