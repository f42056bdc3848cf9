import CZstd
import Foundation
import Support

/// libzstd, wrapped once: one-shot compression of blobs.
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
        let size = data.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, data.count) }
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= UInt64(limit) else {
            throw OperatorError.failed("zstd frame is damaged or larger than \(limit) bytes")
        }
        var out = Data(count: Int(size))
        let written = out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                ZSTD_decompress(dst.baseAddress, Int(size), src.baseAddress, data.count)
            }
        }
        if ZSTD_isError(written) != 0 { throw error("decompress", written) }
        guard written == Int(size) else { throw OperatorError.failed("zstd frame is truncated") }
        return out
    }

    private static func error(_ what: String, _ code: Int) -> OperatorError {
        OperatorError.failed("zstd \(what) failed: \(String(cString: ZSTD_getErrorName(code)))")
    }
}
