/// A table of the AWS Glue Data Catalog as replicatord declares it: the parts of Glue's `TableInput`
/// (https://docs.aws.amazon.com/glue/latest/webapi/API_TableInput.html) an external Parquet or Iceberg
/// table over one folder needs. Encoded and decoded with Glue's own member names.
public struct GlueTable: Sendable, Equatable, Codable {
    /// One column: its name and its Hive type (`bigint`, `string`, `decimal(10,2)`, `array<int>`).
    public struct Column: Sendable, Equatable, Codable {
        /// Column name.
        public var name: String
        /// Hive type name.
        public var type: String

        /// A column.
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }

        enum CodingKeys: String, CodingKey {
            case name = "Name", type = "Type"
        }
    }

    /// Table name (Glue keeps it lower case).
    public var name: String
    /// The columns, in order.
    public var columns: [Column]
    /// `s3://bucket/prefix/schema/table/`.
    public var location: String
    /// `EXTERNAL_TABLE`.
    public var tableType: String
    /// Table parameters: `classification`, `table_type` (`ICEBERG`), `metadata_location`, ...
    public var parameters: [String: String]
    /// Hadoop input format class.
    public var inputFormat: String?
    /// Hadoop output format class.
    public var outputFormat: String?
    /// SerDe class.
    public var serializationLibrary: String?
    /// Glue's version of the table as read (`VersionId`); nil for a table not read from Glue.
    public var versionId: String?
    /// The partition columns (`PartitionKeys`): each partition (``GluePartition``) gives one value
    /// per key and a folder of its own. Empty for an unpartitioned table.
    public var partitionKeys: [Column] = []

    /// A table with every part given.
    public init(
        name: String, columns: [Column], location: String, tableType: String = "EXTERNAL_TABLE",
        parameters: [String: String] = [:], inputFormat: String? = nil, outputFormat: String? = nil,
        serializationLibrary: String? = nil, versionId: String? = nil
    ) {
        self.name = name
        self.columns = columns
        self.location = location
        self.tableType = tableType
        self.parameters = parameters
        self.inputFormat = inputFormat
        self.outputFormat = outputFormat
        self.serializationLibrary = serializationLibrary
        self.versionId = versionId
    }

    /// An external table over the Parquet files of `location`, with the input/output formats and
    /// SerDe Athena, Redshift Spectrum and Spark expect of Parquet
    /// (https://docs.aws.amazon.com/athena/latest/ug/parquet-serde.html).
    /// `partitionKeys` make it a partitioned table, whose rows are those of its partitions' folders.
    public static func parquet(name: String, columns: [Column], location: String, partitionKeys: [Column] = []) -> GlueTable {
        var table = GlueTable(
            name: name, columns: columns, location: location,
            parameters: ["classification": "parquet", "EXTERNAL": "TRUE"],
            inputFormat: parquetInputFormat, outputFormat: parquetOutputFormat,
            serializationLibrary: parquetSerDe)
        table.partitionKeys = partitionKeys
        return table
    }

    static let parquetInputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    static let parquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    static let parquetSerDe = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

    /// An Apache Iceberg table whose current metadata file is `metadataLocation`, declared as Iceberg's
    /// own Glue catalog declares one (`table_type = ICEBERG`, `metadata_location`, and the columns for
    /// engines that list them), so Athena and Redshift Spectrum read it as Iceberg.
    public static func iceberg(
        name: String, columns: [Column], location: String, metadataLocation: String,
        previousMetadataLocation: String?
    ) -> GlueTable {
        var parameters = ["table_type": "ICEBERG", "metadata_location": metadataLocation, "EXTERNAL": "TRUE"]
        if let previousMetadataLocation { parameters["previous_metadata_location"] = previousMetadataLocation }
        return GlueTable(
            name: name, columns: columns, location: location, parameters: parameters,
            inputFormat: "org.apache.hadoop.mapred.FileInputFormat",
            outputFormat: "org.apache.hadoop.mapred.FileOutputFormat",
            serializationLibrary: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")
    }

    /// Whether `other` declares the same table (versions aside): when it does, no update is needed.
    public func sameDefinition(as other: GlueTable) -> Bool {
        var a = self, b = other
        a.versionId = nil
        b.versionId = nil
        return a == b
    }

    // MARK: Glue's wire form

    struct SerDeInfo: Codable {
        var SerializationLibrary: String?
        var Parameters: [String: String]?
    }

    struct StorageDescriptor: Codable {
        var Columns: [Column]?
        var Location: String?
        var InputFormat: String?
        var OutputFormat: String?
        var SerdeInfo: SerDeInfo?

        /// The descriptor a table or partition declares.
        init(columns: [Column], location: String, inputFormat: String?, outputFormat: String?, serializationLibrary: String?) {
            Columns = columns
            Location = location
            InputFormat = inputFormat
            OutputFormat = outputFormat
            SerdeInfo = SerDeInfo(
                SerializationLibrary: serializationLibrary,
                Parameters: serializationLibrary == nil ? nil : ["serialization.format": "1"])
        }
    }

    enum CodingKeys: String, CodingKey {
        case Name, StorageDescriptor, TableType, Parameters, VersionId, PartitionKeys
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .Name)
        let storage = try c.decodeIfPresent(StorageDescriptor.self, forKey: .StorageDescriptor)
        columns = storage?.Columns ?? []
        location = storage?.Location ?? ""
        inputFormat = storage?.InputFormat
        outputFormat = storage?.OutputFormat
        serializationLibrary = storage?.SerdeInfo?.SerializationLibrary
        tableType = try c.decodeIfPresent(String.self, forKey: .TableType) ?? ""
        parameters = try c.decodeIfPresent([String: String].self, forKey: .Parameters) ?? [:]
        versionId = try c.decodeIfPresent(String.self, forKey: .VersionId)
        partitionKeys = try c.decodeIfPresent([Column].self, forKey: .PartitionKeys) ?? []
    }

    /// Encodes the `TableInput` (no `VersionId`: that goes beside it in UpdateTable).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .Name)
        try c.encode(
            StorageDescriptor(
                columns: columns, location: location, inputFormat: inputFormat, outputFormat: outputFormat,
                serializationLibrary: serializationLibrary), forKey: .StorageDescriptor)
        try c.encode(tableType, forKey: .TableType)
        try c.encode(parameters, forKey: .Parameters)
        if !partitionKeys.isEmpty { try c.encode(partitionKeys, forKey: .PartitionKeys) }
    }
}
