// swift-tools-version:6.0
// replicatord: PostgreSQL -> Parquet on S3, full load + CDC, one self-hosted daemon.
// Module direction (docs/architecture.md, checked by scripts/check-direction): replicatord -> Daemon ->
// {Replication, ObjectStore, GlueCatalog, Iceberg}; Replication -> {PGClient, PGOutput, Parquet};
// {ObjectStore, GlueCatalog} -> AWSRequests. Parquet, PGOutput, AWSRequests and Iceberg are leaves.
import PackageDescription

let package = Package(
    name: "replicatord",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "replicatord", targets: ["replicatord"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // Service mode: the lifecycle, the /health + /metrics HTTP server, Prometheus text.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),

        // Leaves.
        .target(name: "PGOutput"),
        .target(name: "Parquet", dependencies: ["CZstd", "CZlib", "CSnappy"]),
        // The AWS plumbing S3, Glue and CloudWatch share: SigV4, the credentials chain, the libcurl
        // transport, the retry policy, and a client for the single-POST (JSON and query) protocols.
        .target(
            name: "AWSRequests",
            dependencies: [
                "CCurl", "CCrypto", "CZlib", .product(name: "Logging", package: "swift-log"),
            ]),
        // The AWS Glue Data Catalog client (JSON 1.1 over AWSRequests): knows neither PostgreSQL nor Parquet.
        .target(name: "GlueCatalog", dependencies: ["AWSRequests", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "ObjectStore",
            dependencies: [
                "AWSRequests", .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "PGClient",
            dependencies: [
                "CLibPQ", .product(name: "Logging", package: "swift-log"),
            ]),
        // Apache Iceberg table metadata (Avro container files, manifests, metadata JSON): knows
        // neither PostgreSQL nor S3; turns file descriptions and schemas into bytes.
        .target(name: "Iceberg", dependencies: ["CZlib"]),
        .testTarget(name: "IcebergTests", dependencies: ["Iceberg", "TestSupport"]),

        // The bridge between PostgreSQL and Parquet.
        .target(
            name: "Replication",
            dependencies: [
                "PGClient", "PGOutput", "Parquet", .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Daemon",
            dependencies: [
                "Replication", "ObjectStore", "Iceberg", "GlueCatalog", "AWSRequests", .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // Benchmark of the S3 client (scripts/bench-s3); not part of the daemon.
        .executableTarget(
            name: "s3-bench",
            dependencies: [
                "ObjectStore", "AWSRequests", .product(name: "Logging", package: "swift-log"),
            ]),
        // Benchmark of the Parquet writer alone (scripts/bench-parquet).
        .executableTarget(name: "parquet-bench", dependencies: ["Parquet"]),
        .executableTarget(
            name: "replicatord",
            dependencies: [
                "Daemon", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Benchmark driver for scripts/bench-* (not a test).
        .executableTarget(name: "replicatord-bench", dependencies: ["PGClient", "Replication", "Daemon", .product(name: "Logging", package: "swift-log")]),
        // Demo and load-test data: creates tables and makes random changes at a chosen rate.
        .executableTarget(
            name: "replicatord-datagen",
            dependencies: [
                "PGClient", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // What the test targets share (the seeded generator of every randomized test).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(name: "AWSTestSupport", dependencies: ["AWSRequests"], path: "Tests/AWSTestSupport"),
        // Unit tests: no network, no server.
        .testTarget(name: "PGOutputTests", dependencies: ["PGOutput", "TestSupport"]),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "TestSupport"]),
        .testTarget(name: "AWSRequestsTests", dependencies: ["AWSRequests"]),
        .testTarget(name: "GlueCatalogTests", dependencies: ["GlueCatalog", "AWSRequests", "AWSTestSupport"]),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore", "AWSRequests"]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "PGOutput", "Parquet", "TestSupport"]),
        .testTarget(
            name: "DaemonTests", dependencies: ["Daemon", "GlueCatalog", "AWSRequests", "AWSTestSupport", "ObjectStore", "Replication", "TestSupport"]),
        // Integration tests: a live PostgreSQL and moto_server, found through REPLICATORD_TEST_* variables.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "PGClient", "PGOutput", "Parquet", "ObjectStore", "Replication", "Daemon", "Iceberg", "AWSRequests", "GlueCatalog",
                "TestSupport",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
