/// An encoder for the Thrift compact protocol, enough for Parquet's footer and page headers.
///
/// Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
/// Fields are written in increasing id order inside a struct; the encoder tracks the last field
/// id of each open struct to emit short (delta) field headers.
struct ThriftCompactEncoder {
    /// Compact-protocol type codes as they appear in field and list headers.
    enum FieldType: UInt8 {
        case boolTrue = 1
        case boolFalse = 2
        case byte = 3
        case i16 = 4
        case i32 = 5
        case i64 = 6
        case double = 7
        case binary = 8
        case list = 9
        case set = 10
        case map = 11
        case structure = 12
    }

    private(set) var bytes: [UInt8] = []
    private var lastFieldID: Int16 = 0
    private var openStructs: [Int16] = []

    init() { bytes.reserveCapacity(256) }

    // MARK: Field headers

    private mutating func fieldHeader(_ id: Int16, _ type: FieldType) {
        let delta = Int(id) - Int(lastFieldID)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeVarint(zigzag(Int64(id)))
        }
        lastFieldID = id
    }

    // MARK: Fields

    mutating func fieldBool(_ id: Int16, _ value: Bool) {
        fieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func fieldI8(_ id: Int16, _ value: Int8) {
        fieldHeader(id, .byte)
        bytes.append(UInt8(bitPattern: value))
    }

    mutating func fieldI16(_ id: Int16, _ value: Int16) {
        fieldHeader(id, .i16)
        writeVarint(zigzag(Int64(value)))
    }

    mutating func fieldI32(_ id: Int16, _ value: Int32) {
        fieldHeader(id, .i32)
        writeVarint(zigzag(Int64(value)))
    }

    mutating func fieldI64(_ id: Int16, _ value: Int64) {
        fieldHeader(id, .i64)
        writeVarint(zigzag(value))
    }

    mutating func fieldBinary(_ id: Int16, _ value: [UInt8]) {
        fieldHeader(id, .binary)
        writeBinary(value)
    }

    mutating func fieldString(_ id: Int16, _ value: String) {
        fieldBinary(id, Array(value.utf8))
    }

    /// Opens a struct-typed field; close it with `structEnd()`.
    mutating func fieldStructBegin(_ id: Int16) {
        fieldHeader(id, .structure)
        structBegin()
    }

    /// Opens a list-typed field; then write `count` elements with the `write…` / `structBegin` calls.
    mutating func fieldListBegin(_ id: Int16, elementType: FieldType, count: Int) {
        fieldHeader(id, .list)
        listHeader(elementType: elementType, count: count)
    }

    // MARK: Bare values (list elements, top level)

    /// Opens a struct that is a list element or the top-level message.
    mutating func structBegin() {
        openStructs.append(lastFieldID)
        lastFieldID = 0
    }

    /// Writes the stop byte and returns to the enclosing struct.
    mutating func structEnd() {
        bytes.append(0)
        lastFieldID = openStructs.popLast() ?? 0
    }

    mutating func listHeader(elementType: FieldType, count: Int) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            writeVarint(UInt64(count))
        }
    }

    mutating func writeI32(_ value: Int32) { writeVarint(zigzag(Int64(value))) }

    mutating func writeBinary(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(_ value: String) { writeBinary(Array(value.utf8)) }

    // MARK: Integers

    private func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    private mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}
