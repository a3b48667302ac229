extension PGOutputMessage {
    /// Truncate (`T`): one `TRUNCATE` of one or more relations.
    ///
    /// Spec: [Logical Replication Message Formats, Truncate](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Truncate: Hashable, Sendable {
        /// The options the `TRUNCATE` was run with.
        public var options: Options
        /// The OIDs of the truncated relations.
        public var relationOIDs: [UInt32]

        /// The streamed transaction's id: set only for a message inside a Stream Start ... Stream Stop chunk
        /// (protocol version 2+), where it precedes the other fields.
        public var xid: UInt32?

        /// Creates a Truncate message.
        public init(options: Options, relationOIDs: [UInt32], xid: UInt32? = nil) {
            self.options = options
            self.relationOIDs = relationOIDs
            self.xid = xid
        }

        /// The option bits of Truncate; unknown bits are kept as sent.
        public struct Options: OptionSet, Hashable, Sendable {
            public var rawValue: UInt8
            public init(rawValue: UInt8) { self.rawValue = rawValue }
            /// `TRUNCATE ... CASCADE`.
            public static let cascade = Options(rawValue: 1)
            /// `TRUNCATE ... RESTART IDENTITY`.
            public static let restartIdentity = Options(rawValue: 2)
        }

        /// Decodes the body after the type byte: `Int32` relation count, `Int8` options, then one `Int32` OID
        /// per relation.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            let countOffset = reader.offset
            let count = Int(try reader.readInteger(as: Int32.self))
            guard count >= 0 else { throw reader.invalidValue("negative relation count \(count)", at: countOffset) }
            let options = Options(rawValue: try reader.readUInt8())
            var oids: [UInt32] = []
            oids.reserveCapacity(min(count, reader.remaining / 4))
            for _ in 0..<count {
                oids.append(try reader.readInteger(as: UInt32.self))
            }
            return Truncate(options: options, relationOIDs: oids)
        }
    }
}
