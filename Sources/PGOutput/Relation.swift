extension PGOutputMessage {
    /// Relation (`R`): the schema of a table, sent before the first change to it and again after it changes.
    ///
    /// Columns appear in the order of the tuple data of later Insert, Update and Delete messages; generated
    /// and dropped columns are not included.
    /// Spec: [Logical Replication Message Formats, Relation](https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html).
    public struct Relation: Hashable, Sendable {
        /// The relation's OID, which later change messages refer to.
        public var oid: UInt32
        /// The relation's schema (empty for `pg_catalog`).
        public var namespace: String
        /// The relation's name.
        public var name: String
        /// The relation's replica identity (`relreplident` in `pg_class`).
        public var replicaIdentity: ReplicaIdentity
        /// The published columns, in tuple order.
        public var columns: [Column]

        /// The streamed transaction's id: set only for a message inside a Stream Start ... Stream Stop chunk
        /// (protocol version 2+), where it precedes the other fields.
        public var xid: UInt32?

        /// Creates a Relation message.
        public init(
            oid: UInt32, namespace: String, name: String, replicaIdentity: ReplicaIdentity, columns: [Column],
            xid: UInt32? = nil
        ) {
            self.oid = oid
            self.namespace = namespace
            self.name = name
            self.replicaIdentity = replicaIdentity
            self.columns = columns
            self.xid = xid
        }

        /// Which old values an Update or Delete of this relation carries (`relreplident`).
        public enum ReplicaIdentity: UInt8, Hashable, Sendable {
            /// The primary key, if any.
            case `default` = 100  // ascii: d
            /// Nothing: Update and Delete carry no old values.
            case nothing = 110  // ascii: n
            /// All columns: Update and Delete carry the whole old row (`O`).
            case full = 102  // ascii: f
            /// The columns of a chosen unique index.
            case index = 105  // ascii: i
        }

        /// One published column of the relation.
        public struct Column: Hashable, Sendable {
            /// The flag bit that marks a column as part of the replica identity key.
            public static let keyFlag: UInt8 = 1

            /// Column flags as sent: 0, or 1 (``keyFlag``) for a replica identity key column.
            public var flags: UInt8
            /// The column's name.
            public var name: String
            /// The OID of the column's data type.
            public var typeOID: UInt32
            /// The column's type modifier (`atttypmod`), -1 when it has none.
            public var typeModifier: Int32

            /// True when the column is part of the replica identity key.
            public var isKey: Bool { flags & Self.keyFlag != 0 }

            /// Creates a column description.
            public init(flags: UInt8, name: String, typeOID: UInt32, typeModifier: Int32) {
                self.flags = flags
                self.name = name
                self.typeOID = typeOID
                self.typeModifier = typeModifier
            }
        }

        /// Decodes the body after the type byte: `Int32` OID, namespace and name as C strings, `Int8` replica
        /// identity, `Int16` column count, then per column `Int8` flags, name, `Int32` type OID, `Int32` typmod.
        public static func decode(from reader: inout ByteReader) throws(PGOutputError) -> Self {
            let oid = try reader.readInteger(as: UInt32.self)
            let namespace = try reader.readCString()
            let name = try reader.readCString()
            let identityOffset = reader.offset
            let identityByte = try reader.readUInt8()
            guard let replicaIdentity = ReplicaIdentity(rawValue: identityByte) else {
                throw reader.invalidValue("unknown replica identity byte \(identityByte)", at: identityOffset)
            }
            let countOffset = reader.offset
            let count = Int(try reader.readInteger(as: Int16.self))
            guard count >= 0 else { throw reader.invalidValue("negative column count \(count)", at: countOffset) }
            var columns: [Column] = []
            // A column takes at least 10 bytes, so a bogus count cannot make us reserve more than the input.
            columns.reserveCapacity(min(count, reader.remaining / 10))
            for _ in 0..<count {
                columns.append(
                    Column(
                        flags: try reader.readUInt8(), name: try reader.readCString(),
                        typeOID: try reader.readInteger(as: UInt32.self), typeModifier: try reader.readInteger(as: Int32.self)))
            }
            return Relation(oid: oid, namespace: namespace, name: name, replicaIdentity: replicaIdentity, columns: columns)
        }
    }
}
