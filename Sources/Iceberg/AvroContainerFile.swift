import CZlib

/// The codec of an Avro object container file's blocks.
public enum AvroCodec: String, Sendable, Hashable {
    /// Blocks as they are.
    case null
    /// Blocks compressed with raw deflate (RFC 1951, no zlib or gzip wrapper).
    case deflate
}

/// An Avro object container file: the header (magic, metadata map with `avro.schema` and
/// `avro.codec`, a 16-byte sync marker), then blocks of records each followed by the marker.
///
/// Spec: https://avro.apache.org/docs/1.11.1/specification/ ("Object Container Files").
public struct AvroContainerFile: Sendable {
    /// The writer's schema of every record.
    public var schema: AvroSchema
    /// User metadata (Iceberg's `schema`, `partition-spec`, ...), after `avro.schema` and `avro.codec`.
    public var metadata: [(key: String, value: String)]
    /// The records, in order.
    public var records: [AvroValue]

    /// The four bytes every container file starts with.
    public static let magic: [UInt8] = [0x4F, 0x62, 0x6A, 0x01]  // "Obj" 1

    /// A file of `records`, all of `schema`, with user `metadata`.
    public init(schema: AvroSchema, metadata: [(key: String, value: String)] = [], records: [AvroValue]) {
        self.schema = schema
        self.metadata = metadata
        self.records = records
    }

    /// The value of a user metadata key, or nil.
    public func metadataValue(_ key: String) -> String? { metadata.first { $0.key == key }?.value }

    /// The file's bytes. `syncMarker` must be 16 bytes (callers pass random ones; tests fixed
    /// ones); a block is cut after `recordsPerBlock` records.
    public func encoded(codec: AvroCodec = .null, syncMarker: [UInt8], recordsPerBlock: Int = 10_000) throws(IcebergError) -> [UInt8] {
        precondition(syncMarker.count == 16, "an Avro sync marker is 16 bytes")
        precondition(recordsPerBlock > 0, "a block holds at least one record")
        var out = AvroBinaryEncoder()
        out.writeRaw(Self.magic)
        let entries = [("avro.schema", schema.json.serialized), ("avro.codec", codec.rawValue)] + metadata.map { ($0.key, $0.value) }
        out.writeLong(Int64(entries.count))
        for (key, value) in entries {
            out.writeString(key)
            out.writeBytes(Array(value.utf8))
        }
        out.writeLong(0)
        out.writeRaw(syncMarker)
        var start = 0
        while start < records.count {
            let end = min(start + recordsPerBlock, records.count)
            var block = AvroBinaryEncoder()
            for record in records[start..<end] { try block.encode(record, as: schema) }
            let data = codec == .deflate ? try Deflate.compress(block.bytes) : block.bytes
            out.writeLong(Int64(end - start))
            out.writeLong(Int64(data.count))
            out.writeRaw(data)
            out.writeRaw(syncMarker)
            start = end
        }
        return out.bytes
    }

    /// Reads a container file written with the null or deflate codec: its schema, user metadata
    /// and records. Bad magic, a wrong sync marker, an unknown codec or truncation throw.
    public static func decode(_ bytes: [UInt8]) throws(IcebergError) -> AvroContainerFile {
        var d = AvroBinaryDecoder(bytes)
        guard try d.readRaw(4) == magic else { throw IcebergError(.avroMismatch, "not an Avro container file (magic)") }
        var schemaText: String?
        var codecName = "null"
        var user: [(key: String, value: String)] = []
        let metadataMap = try d.decode(.map(values: .bytes))
        guard case .map(let entries) = metadataMap else { throw IcebergError(.avroMismatch, "bad header") }
        for entry in entries {
            let value = String(decoding: entry.value.bytesValue ?? [], as: UTF8.self)
            switch entry.key {
            case "avro.schema": schemaText = value
            case "avro.codec": codecName = value
            default: user.append((entry.key, value))
            }
        }
        guard let schemaText else { throw IcebergError(.avroMismatch, "container file without avro.schema") }
        guard let codec = AvroCodec(rawValue: codecName) else {
            throw IcebergError(.avroMismatch, "unsupported Avro codec \(codecName)")
        }
        let schema = try AvroSchema.parse(try JSONValue.parse(schemaText))
        let sync = try d.readRaw(16)
        var records: [AvroValue] = []
        while !d.isAtEnd {
            let count = try d.readLong()
            let size = try d.readLong()
            guard count >= 0, size >= 0 else { throw IcebergError(.avroMismatch, "negative block count or size") }
            let raw = try d.readRaw(Int(size))
            let data = codec == .deflate ? try Deflate.decompress(raw) : raw
            // A record takes at least a byte unless its schema encodes to nothing; a block that
            // claims more records than that is refused past a generous limit, so a forged count
            // cannot make the reader loop or allocate without end.
            guard count <= Int64(data.count) || count <= 1 << 20 else {
                throw IcebergError(.avroMismatch, "block claims \(count) records in \(data.count) bytes")
            }
            var block = AvroBinaryDecoder(data)
            for _ in 0..<count { records.append(try block.decode(schema)) }
            guard block.isAtEnd else { throw IcebergError(.avroMismatch, "block has bytes after its \(count) records") }
            guard try d.readRaw(16) == sync else { throw IcebergError(.avroMismatch, "sync marker mismatch") }
        }
        return AvroContainerFile(schema: schema, metadata: user, records: records)
    }
}

/// Raw deflate (RFC 1951) through zlib, as Avro's `deflate` codec wants it.
enum Deflate {
    static func compress(_ input: [UInt8]) throws(IcebergError) -> [UInt8] {
        var stream = z_stream()
        // windowBits -15: raw deflate, no zlib header or checksum.
        var rc = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw IcebergError(.compressionFailed, "deflateInit2 returned \(rc)") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 16)
        var source = input
        let produced: Int = source.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                rc = deflate(&stream, Z_FINISH)
                return dst.count - Int(stream.avail_out)
            }
        }
        guard rc == Z_STREAM_END else { throw IcebergError(.compressionFailed, "deflate returned \(rc)") }
        return Array(output[0..<produced])
    }

    static func decompress(_ input: [UInt8]) throws(IcebergError) -> [UInt8] {
        var stream = z_stream()
        var rc = inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw IcebergError(.compressionFailed, "inflateInit2 returned \(rc)") }
        defer { inflateEnd(&stream) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var source = input
        try source.withUnsafeMutableBufferPointer { (src: inout UnsafeMutableBufferPointer<UInt8>) throws(IcebergError) in
            stream.next_in = src.baseAddress
            stream.avail_in = UInt32(src.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = UInt32(dst.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    return dst.count - Int(stream.avail_out)
                }
                guard rc == Z_OK || rc == Z_STREAM_END else {
                    throw IcebergError(.compressionFailed, "inflate returned \(rc)")
                }
                result.append(contentsOf: chunk[0..<produced])
                if rc == Z_OK && produced == 0 && stream.avail_in == 0 {
                    throw IcebergError(.compressionFailed, "deflate stream ends early")
                }
            } while rc != Z_STREAM_END
        }
        return result
    }
}
