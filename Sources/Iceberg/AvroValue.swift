/// A value to encode with an ``AvroSchema``, or one decoded from Avro bytes.
///
/// Unions need no wrapper when writing: the encoder takes the first branch the value fits
/// (`.null` for `["null", T]`, anything else for `T`). `.union(index, value)` picks a branch
/// explicitly. Decoding returns the branch's value without the wrapper.
public indirect enum AvroValue: Sendable, Hashable {
    case null
    case boolean(Bool)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])
    case string(String)
    /// A record's field values, in the schema's field order.
    case record([AvroValue])
    case array([AvroValue])
    /// A map's entries, in the order they are written.
    case map([AvroMapEntry])
    /// An explicit union branch.
    case union(Int, AvroValue)
    case fixed([UInt8])

    /// The record's field values, or nil.
    public var recordFields: [AvroValue]? { if case .record(let f) = self { f } else { nil } }
    /// The array's elements, or nil.
    public var arrayElements: [AvroValue]? { if case .array(let e) = self { e } else { nil } }
    /// The int or long as an Int64, or nil.
    public var integerValue: Int64? {
        switch self {
        case .int(let v): Int64(v)
        case .long(let v): v
        default: nil
        }
    }
    /// The string, or nil.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The bytes (or fixed), or nil.
    public var bytesValue: [UInt8]? {
        switch self {
        case .bytes(let b), .fixed(let b): b
        default: nil
        }
    }
}

/// One entry of an Avro map.
public struct AvroMapEntry: Sendable, Hashable {
    /// The entry key.
    public var key: String
    /// The entry value.
    public var value: AvroValue

    /// An entry `key: value`.
    public init(_ key: String, _ value: AvroValue) {
        self.key = key
        self.value = value
    }
}
