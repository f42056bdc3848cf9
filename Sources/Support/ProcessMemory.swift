import SystemShims

/// How this process's malloc (glibc) keeps memory it was given back.
///
/// By default glibc gives threads that allocate at once arenas of their own (up to eight per core) and raises its
/// mmap threshold to the largest block freed so far (up to 32 MiB). A backup's worker threads allocate and free
/// chunk buffers and 16 MiB packs, so after a while those blocks come from the arenas and stay there as free
/// space, per arena: on a backup of 82,000 files resident memory peaked at 287 MiB, with at most 195 MiB of it
/// live allocations. Two arenas and the default 128 KiB threshold kept fixed return large blocks to the kernel
/// when they are freed (226 MiB on the same host); `releaseFreePages` trims what the arenas hold
/// between a backup's steps. The fixed threshold is the backup's alone: restores and the mount allocate a
/// buffer per chunk, and mapping each one afresh cost them ~40% of their throughput.
public enum ProcessMemory {
    public static let arenas: Int32 = 2
    public static let mmapThreshold: Int32 = 128 << 10

    /// At most `arenas` malloc arenas; call it first thing in `main`, before other threads allocate. False if
    /// glibc refused.
    @discardableResult
    public static func limitArenas() -> Bool {
        valkyrie_malloc_arenas(arenas) == 1
    }

    /// Blocks from `mmapThreshold` up mapped on their own and unmapped when freed, from now on (a backup's).
    @discardableResult
    public static func returnLargeBlocks() -> Bool {
        valkyrie_malloc_mmap_threshold(mmapThreshold) == 1
    }

    /// Gives the free pages of every arena back to the kernel (a few milliseconds on a large heap).
    public static func releaseFreePages() {
        _ = valkyrie_malloc_trim()
    }
}
