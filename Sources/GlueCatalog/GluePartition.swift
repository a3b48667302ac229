/// A partition of a partitioned ``GlueTable``: one value per partition key and the folder holding its
/// files (Glue's `PartitionInput`, https://docs.aws.amazon.com/glue/latest/webapi/API_PartitionInput.html).
/// Its storage is the table's (columns, formats, SerDe) at another location, as Hive declares one.
public struct GluePartition: Sendable, Equatable, Codable {
    /// One value per partition key, in the keys' order.
    public var values: [String]
    /// The partition's folder, `s3://bucket/prefix/schema/table/2026/11/24/`.
    public var location: String
    /// The columns of its files (the table's when the partition was declared).
    public var columns: [GlueTable.Column]
    /// Hadoop input format class.
    public var inputFormat: String?
    /// Hadoop output format class.
    public var outputFormat: String?
    /// SerDe class.
    public var serializationLibrary: String?

    /// A partition of `table` with `values`, its files in `location`.
    public init(of table: GlueTable, values: [String], location: String) {
        self.values = values
        self.location = location
        columns = table.columns
        inputFormat = table.inputFormat
        outputFormat = table.outputFormat
        serializationLibrary = table.serializationLibrary
    }

    enum CodingKeys: String, CodingKey {
        case Values, StorageDescriptor
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        values = try c.decode([String].self, forKey: .Values)
        let storage = try c.decodeIfPresent(GlueTable.StorageDescriptor.self, forKey: .StorageDescriptor)
        location = storage?.Location ?? ""
        columns = storage?.Columns ?? []
        inputFormat = storage?.InputFormat
        outputFormat = storage?.OutputFormat
        serializationLibrary = storage?.SerdeInfo?.SerializationLibrary
    }

    /// Encodes the `PartitionInput`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(values, forKey: .Values)
        try c.encode(
            GlueTable.StorageDescriptor(
                columns: columns, location: location, inputFormat: inputFormat,
                outputFormat: outputFormat, serializationLibrary: serializationLibrary),
            forKey: .StorageDescriptor)
    }
}
