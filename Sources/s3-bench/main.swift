import AWSRequests

// s3-bench: uploads one file through ObjectStore's streaming multipart upload and prints the
// throughput and the process's peak RSS as one JSON line. Driven by scripts/bench-s3.
//
//   s3-bench --endpoint URL --bucket NAME --file PATH [--key K] [--part-size BYTES] [--parallelism N]
//            [--region R] [--chunk BYTES]
//
// Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
import Foundation
import Logging
import ObjectStore

#if canImport(Glibc)
    import Glibc
#endif

func option(_ name: String, _ fallback: String? = nil) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--" + name), i + 1 < args.count { return args[i + 1] }
    guard let fallback else {
        FileHandle.standardError.write(Data("s3-bench: --\(name) is required\n".utf8))
        exit(2)
    }
    return fallback
}

func peakRSSBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

let endpoint = option("endpoint")
let bucket = option("bucket")
let path = option("file")
let key = option("key", "bench/object.bin")
let partSize = Int(option("part-size", String(8 * 1024 * 1024)))!
let parallelism = Int(option("parallelism", "4"))!
let region = option("region", "us-east-1")
let chunkSize = Int(option("chunk", String(1024 * 1024)))!

var logger = Logger(label: "s3-bench")
logger.logLevel = .warning

let config = S3Configuration(
    bucket: bucket, region: region, endpoint: endpoint, pathStyle: true, partSize: partSize,
    parallelism: parallelism)
let client = try S3Client(configuration: config, credentials: EnvironmentCredentialsProvider(), logger: logger)
try await client.createBucket()
let store = S3ObjectStore(client: client, prefix: "", logger: logger)

let fd = open(path, O_RDONLY)
guard fd >= 0 else {
    FileHandle.standardError.write(Data("s3-bench: cannot open \(path)\n".utf8))
    exit(1)
}
let clock = ContinuousClock()
let started = clock.now
let upload = try await store.makeUpload(key: key, contentType: "application/octet-stream")
var total = 0
var chunk = [UInt8](repeating: 0, count: chunkSize)
while true {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
    if n < 0 { fatalError("read failed: errno \(errno)") }
    if n == 0 { break }
    try await upload.write(n == chunkSize ? chunk : Array(chunk[0..<n]))
    total += n
}
let stored = try await upload.complete()
let elapsed = clock.now - started
close(fd)
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let mib = Double(total) / 1_048_576
print(
    "{\"client\":\"replicatord\",\"bytes\":\(total),\"seconds\":\(String(format: "%.3f", seconds)),"
        + "\"mib_per_s\":\(String(format: "%.1f", mib / seconds)),\"peak_rss_mib\":\(String(format: "%.1f", Double(peakRSSBytes()) / 1_048_576)),"
        + "\"etag\":\"\(stored.etag)\"}")
