/// Gives each distinct value a small number in order of first sight, so large tables can hold 4-byte numbers
/// where they would otherwise repeat the values (pack ids, tree ids).
public struct Numbering<Value: Hashable & Sendable>: Sendable {
    public private(set) var values: [Value] = []
    private var numbers: [Value: UInt32] = [:]

    public init() {}

    /// The value's number, given now if it has none yet.
    public mutating func number(_ value: Value) -> UInt32 {
        if let known = numbers[value] { return known }
        let number = UInt32(values.count)
        values.append(value)
        numbers[value] = number
        return number
    }

    public func contains(_ value: Value) -> Bool { numbers[value] != nil }

    public subscript(number: UInt32) -> Value { values[Int(number)] }
}
