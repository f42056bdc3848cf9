import Foundation

/// The lines of a JSONL file held in memory (the previous set's vault index or object list), each handed over in
/// place: the file, tens of MB for a large host, is never copied whole or split into an array. Empty lines are
/// skipped.
enum JSONLines {
    static func forEach(in data: Data, _ visit: (Data) -> Void) {
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            if end > start { visit(data[start..<end]) }
            start = end + 1
        }
    }
}
