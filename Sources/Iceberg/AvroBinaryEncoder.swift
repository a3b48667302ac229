/// Avro's binary encoding of a value under a schema.
///
/// Spec: https://avro.apache.org/docs/1.11.1/specification/ ("Binary Encoding"): int and long as
/// zig-zag variable-length integers, float and double as little-endian IEEE 754, bytes and string
/// as a long length then the bytes, records as their fields in order, arrays and maps as blocks
/// (a count, the items, and a final zero count), unions as the branch index then the value,
/// fixed as its bytes alone.
public struct AvroBinaryEncoder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An encoder with no bytes yet.
    public init() {}

    // MARK: Primitives

    /// A long: zig-zag, then 7 bits a byte, low bits first, high bit set on all but the last.
    public mutating func writeLong(_ value: Int64) {
        var n = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while n >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        bytes.append(UInt8(n))
    }

    /// An int: encoded as a long of the same value.
    public mutating func writeInt(_ value: Int32) { writeLong(Int64(value)) }

    /// A boolean: one byte, 0 or 1.
    public mutating func writeBoolean(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// A float: 4 bytes, little-endian IEEE 754.
    public mutating func writeFloat(_ value: Float) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    /// A double: 8 bytes, little-endian IEEE 754.
    public mutating func writeDouble(_ value: Double) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    /// Bytes: the length as a long, then the bytes.
    public mutating func writeBytes(_ value: [UInt8]) {
        writeLong(Int64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A string: its UTF-8 bytes as `bytes`.
    public mutating func writeString(_ value: String) { writeBytes(Array(value.utf8)) }

    /// Fixed: the bytes alone, no length.
    public mutating func writeFixed(_ value: [UInt8]) { bytes.append(contentsOf: value) }

    /// Raw bytes with no framing (a sync marker, a magic number).
    public mutating func writeRaw(_ value: [UInt8]) { bytes.append(contentsOf: value) }

    // MARK: Values under a schema

    /// Encodes `value` as `schema` describes it; a value that does not fit the schema throws.
    public mutating func encode(_ value: AvroValue, as schema: AvroSchema) throws(IcebergError) {
        switch (schema, value) {
        case (.null, .null): break
        case (.boolean, .boolean(let v)): writeBoolean(v)
        case (.int, .int(let v)): writeInt(v)
        case (.long, .long(let v)): writeLong(v)
        case (.long, .int(let v)): writeLong(Int64(v))
        case (.float, .float(let v)): writeFloat(v)
        case (.double, .double(let v)): writeDouble(v)
        case (.bytes, .bytes(let v)): writeBytes(v)
        case (.string, .string(let v)): writeString(v)
        case (.fixed(let name, let size, _), .fixed(let v)), (.fixed(let name, let size, _), .bytes(let v)):
            guard v.count == size else {
                throw IcebergError(.avroMismatch, "fixed \(name) takes \(size) bytes, got \(v.count)")
            }
            writeFixed(v)
        case (.record(let name, let fields), .record(let values)):
            guard fields.count == values.count else {
                throw IcebergError(.avroMismatch, "record \(name) has \(fields.count) fields, got \(values.count) values")
            }
            for (field, v) in zip(fields, values) {
                do { try encode(v, as: field.type) } catch {
                    throw IcebergError(.avroMismatch, "\(name).\(field.name): \(error.message)")
                }
            }
        case (.array(let items, _), .array(let elements)):
            if !elements.isEmpty {
                writeLong(Int64(elements.count))
                for e in elements { try encode(e, as: items) }
            }
            writeLong(0)
        case (.map(let valueSchema, _), .map(let entries)):
            if !entries.isEmpty {
                writeLong(Int64(entries.count))
                for entry in entries {
                    writeString(entry.key)
                    try encode(entry.value, as: valueSchema)
                }
            }
            writeLong(0)
        case (.union(let branches), .union(let index, let v)):
            guard branches.indices.contains(index) else {
                throw IcebergError(.avroMismatch, "union has \(branches.count) branches, index \(index) given")
            }
            writeLong(Int64(index))
            try encode(v, as: branches[index])
        case (.union(let branches), _):
            guard let index = branches.firstIndex(where: { Self.fits(value, $0) }) else {
                throw IcebergError(.avroMismatch, "no union branch takes a \(Self.kind(value))")
            }
            writeLong(Int64(index))
            try encode(value, as: branches[index])
        default:
            throw IcebergError(.avroMismatch, "a \(Self.kind(value)) does not fit Avro type \(schema.json.serialized)")
        }
    }

    /// Whether a value's kind matches a (non-union) branch, for picking a union branch.
    private static func fits(_ value: AvroValue, _ schema: AvroSchema) -> Bool {
        switch (schema, value) {
        case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.long, .int), (.float, .float),
            (.double, .double), (.bytes, .bytes), (.string, .string), (.record, .record), (.array, .array),
            (.map, .map), (.fixed, .fixed):
            return true
        case (.fixed(_, let size, _), .bytes(let b)):
            return b.count == size
        default:
            return false
        }
    }

    private static func kind(_ value: AvroValue) -> String {
        switch value {
        case .null: "null"
        case .boolean: "boolean"
        case .int: "int"
        case .long: "long"
        case .float: "float"
        case .double: "double"
        case .bytes: "bytes"
        case .string: "string"
        case .record: "record"
        case .array: "array"
        case .map: "map"
        case .union: "union branch"
        case .fixed: "fixed"
        }
    }
}

/// Reads Avro's binary encoding back; malformed or truncated input throws, never traps.
public struct AvroBinaryDecoder: Sendable {
    /// The bytes being read.
    public let bytes: [UInt8]
    /// The offset of the next byte to read.
    public var position: Int

    /// A decoder reading `bytes` from `position`.
    public init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { position >= bytes.count }

    private func truncated(_ what: String) -> IcebergError {
        IcebergError(.avroMismatch, "truncated \(what) at byte \(position)")
    }

    /// A zig-zag varint long; more than 10 bytes or truncation throws.
    public mutating func readLong() throws(IcebergError) -> Int64 {
        var n: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw truncated("varint") }
            guard shift < 64 else { throw IcebergError(.avroMismatch, "varint longer than 10 bytes at \(position)") }
            let b = bytes[position]
            position += 1
            n |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: n >> 1) ^ -Int64(bitPattern: n & 1)
    }

    /// A zig-zag varint that must fit 32 bits.
    public mutating func readInt() throws(IcebergError) -> Int32 {
        let v = try readLong()
        guard let i = Int32(exactly: v) else { throw IcebergError(.avroMismatch, "int out of range at \(position)") }
        return i
    }

    /// Exactly `count` bytes with no framing.
    public mutating func readRaw(_ count: Int) throws(IcebergError) -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else { throw truncated("\(count) bytes") }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// Bytes: a long length, then that many bytes.
    public mutating func readBytes() throws(IcebergError) -> [UInt8] {
        let count = try readLong()
        guard count >= 0, count <= Int64(bytes.count - position) else { throw truncated("bytes of length \(count)") }
        return try readRaw(Int(count))
    }

    /// A string: bytes that must be valid UTF-8.
    public mutating func readString() throws(IcebergError) -> String {
        let raw = try readBytes()
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw IcebergError(.avroMismatch, "string is not UTF-8 before byte \(position)")
        }
        return s
    }

    /// Decodes one value of `schema`.
    public mutating func decode(_ schema: AvroSchema) throws(IcebergError) -> AvroValue {
        switch schema {
        case .null: return .null
        case .boolean:
            let b = try readRaw(1)[0]
            guard b <= 1 else { throw IcebergError(.avroMismatch, "boolean byte \(b) at \(position - 1)") }
            return .boolean(b == 1)
        case .int: return .int(try readInt())
        case .long: return .long(try readLong())
        case .float:
            let raw = try readRaw(4)
            return .float(Float(bitPattern: raw.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        case .double:
            let raw = try readRaw(8)
            return .double(Double(bitPattern: raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
        case .bytes: return .bytes(try readBytes())
        case .string: return .string(try readString())
        case .fixed(_, let size, _): return .fixed(try readRaw(size))
        case .record(_, let fields):
            var values: [AvroValue] = []
            values.reserveCapacity(fields.count)
            for field in fields { values.append(try decode(field.type)) }
            return .record(values)
        case .array(let items, _):
            var elements: [AvroValue] = []
            try readBlocks { (d: inout AvroBinaryDecoder) throws(IcebergError) in elements.append(try d.decode(items)) }
            return .array(elements)
        case .map(let values, _):
            var entries: [AvroMapEntry] = []
            try readBlocks { (d: inout AvroBinaryDecoder) throws(IcebergError) in
                let key = try d.readString()
                entries.append(AvroMapEntry(key, try d.decode(values)))
            }
            return .map(entries)
        case .union(let branches):
            let index = try readLong()
            guard index >= 0, index < Int64(branches.count) else {
                throw IcebergError(.avroMismatch, "union index \(index) of \(branches.count) branches")
            }
            return try decode(branches[Int(index)])
        }
    }

    /// Array and map blocks: a count (negative: followed by a byte size), items, until a zero count.
    private mutating func readBlocks(_ item: (inout AvroBinaryDecoder) throws(IcebergError) -> Void) throws(IcebergError) {
        while true {
            var count = try readLong()
            if count == 0 { return }
            if count < 0 {
                guard count != Int64.min else { throw IcebergError(.avroMismatch, "bad block count") }
                count = -count
                _ = try readLong()  // the block's size in bytes
            }
            // Items take at least a byte unless their schema encodes to nothing (see the container's
            // block check): past a generous limit, a count larger than the bytes left is refused.
            guard count <= Int64(bytes.count - position) || count <= 1 << 20 else {
                throw truncated("block of \(count) items")
            }
            for _ in 0..<count { try item(&self) }
        }
    }
}
