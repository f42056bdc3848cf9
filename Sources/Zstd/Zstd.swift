import CZstd
import Foundation
import Support

/// libzstd, wrapped once: one-shot compression of blobs, streamed compression of patches.
public enum Zstd {
    /// Compresses `data` at `level` (zstd's default is 3).
    public static func compress(_ data: Data, level: Int32 = 3) throws -> Data {
        let bound = ZSTD_compressBound(data.count)
        var out = Data(count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, data.count, level)
            }
        }
        if ZSTD_isError(written) != 0 { throw error("compress", written) }
        out.removeSubrange(written...)
        return out
    }

    /// Decompresses a frame whose content size is recorded in its header, refusing anything over `limit` bytes.
    public static func decompress(_ data: Data, limit: Int = 64 << 20) throws -> Data {
        try decompressFrame(data, limit: limit) { dst, size, src in ZSTD_decompress(dst, size, src, data.count) }
    }

    /// The largest prefix plus data a patch may span: zstd's default limit of a decoder's window (128 MiB), so any
    /// decoder reads the frame without raising its window limit.
    public static let patchSpan = 1 << 27

    /// Compresses `data` as a patch on `prefix` (zstd's referenced prefix, as `zstd --patch-from`): whatever `data`
    /// shares with `prefix` costs a few bytes per match, wherever it lies. `prefix.count + data.count` must not
    /// exceed `patchSpan`; decompressing needs the same prefix. Nil as soon as the patch exceeds `limit` bytes.
    ///
    /// The frame leaves zstd in pieces of `ZSTD_CStreamOutSize()` and zstd reads `data` in place: a patch costs its
    /// prefix, its data, zstd's tables and at most `limit` bytes of output, never a frame-sized buffer.
    public static func compress(_ data: Data, level: Int32 = 3, prefix: Data, limit: Int = .max) throws -> Data? {
        guard prefix.count + data.count <= patchSpan else {
            throw OperatorError.failed("zstd patch of \(data.count) bytes on \(prefix.count) exceeds \(patchSpan) bytes")
        }
        guard let context = ZSTD_createCCtx() else { throw OperatorError.failed("zstd: cannot allocate a compression context") }
        defer { ZSTD_freeCCtx(context) }
        // The window reaches from the end of the data back to the start of the prefix.
        let windowLog = Int32(max(10, Int.bitWidth - (prefix.count + data.count).leadingZeroBitCount))
        try check("set level", ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        try check("set window", ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog))
        try check("enable long matching", ZSTD_CCtx_setParameter(context, ZSTD_c_enableLongDistanceMatching, 1))
        // A checksum of the content: decoding on another prefix fails instead of yielding other bytes.
        try check("enable the checksum", ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        // `data` stays where it is until the frame ends, so zstd keeps no copy of it (ZSTD_c_stableInBuffer).
        try check("read the input in place", ZSTD_CCtx_setParameter(context, ZSTD_c_experimentalParam9, 1))
        // The header records the content size, which decompressing requires.
        try check("pledge the size", ZSTD_CCtx_setPledgedSrcSize(context, UInt64(data.count)))
        var out = Data()
        var piece = Data(count: ZSTD_CStreamOutSize())
        let ended = try prefix.withUnsafeBytes { base in
            try check("reference the prefix", ZSTD_CCtx_refPrefix(context, base.baseAddress, prefix.count))
            return try data.withUnsafeBytes { src in
                var input = ZSTD_inBuffer(src: src.baseAddress, size: data.count, pos: 0)
                while true {
                    var produced = 0
                    let left = piece.withUnsafeMutableBytes { dst in
                        var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                        defer { produced = output.pos }
                        return ZSTD_compressStream2(context, &output, &input, ZSTD_e_end)
                    }
                    if ZSTD_isError(left) != 0 { throw error("compress", left) }
                    out.append(piece.prefix(produced))
                    if out.count > limit { return false }
                    if left == 0 { return true }
                }
            }
        }
        return ended ? out : nil
    }

    /// Decompresses a patch made by `compress(_:level:prefix:limit:)` on the same `prefix`, refusing anything over `limit`.
    public static func decompress(_ data: Data, prefix: Data, limit: Int) throws -> Data {
        guard let context = ZSTD_createDCtx() else { throw OperatorError.failed("zstd: cannot allocate a decompression context") }
        defer { ZSTD_freeDCtx(context) }
        return try prefix.withUnsafeBytes { base in
            try check("reference the prefix", ZSTD_DCtx_refPrefix(context, base.baseAddress, prefix.count))
            return try decompressFrame(data, limit: limit) { dst, size, src in ZSTD_decompressDCtx(context, dst, size, src, data.count) }
        }
    }

    private static func decompressFrame(_ data: Data, limit: Int,
                                        _ decode: (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?) -> Int) throws -> Data {
        let size = data.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, data.count) }
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= UInt64(limit) else {
            throw OperatorError.failed("zstd frame is damaged or larger than \(limit) bytes")
        }
        var out = Data(count: Int(size))
        let written = out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in decode(dst.baseAddress, Int(size), src.baseAddress) }
        }
        if ZSTD_isError(written) != 0 { throw error("decompress", written) }
        guard written == Int(size) else { throw OperatorError.failed("zstd frame is truncated") }
        return out
    }

    private static func check(_ what: String, _ code: Int) throws {
        if ZSTD_isError(code) != 0 { throw error(what, code) }
    }

    private static func error(_ what: String, _ code: Int) -> OperatorError {
        OperatorError.failed("zstd \(what) failed: \(String(cString: ZSTD_getErrorName(code)))")
    }
}
