import Foundation

/// "Did you mean" for unknown sets, paths and vaults: the nearest candidates by edit distance.
enum Suggestions {
    /// ` (nearest: a, b, c)`, or empty when nothing is near.
    static func phrase(_ wanted: String, among candidates: [String], limit: Int = 3) -> String {
        let near = nearest(wanted, among: candidates, limit: limit)
        return near.isEmpty ? "" : " (nearest: \(near.joined(separator: ", ")))"
    }

    static func nearest(_ wanted: String, among candidates: [String], limit: Int) -> [String] {
        let target = Array(wanted.lowercased())
        let scored = Set(candidates).map { ($0, distance(target, Array($0.lowercased()))) }
        let bound = max(2, target.count / 3)
        return scored.filter { $0.1 <= bound }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
    }

    /// Levenshtein distance, two rows.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count), current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
