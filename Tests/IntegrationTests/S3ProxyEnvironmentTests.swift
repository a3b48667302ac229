import Foundation
import Testing
@testable import ObjectStore

/// `http_proxy`/`NO_PROXY` are honoured (libcurl reads them; we do not turn that off). Checked with the
/// s3-bench executable in a child process, so the variables do not leak into other tests.
@Suite(.enabled(if: S3TestSupport.enabled)) struct S3ProxyEnvironmentTests {
    @Test func proxyVariablesAreHonoured() async throws {
        let upstream = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        let bench = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("s3-bench").path
        try #require(FileManager.default.isExecutableFile(atPath: bench), "build s3-bench first (swift build --build-tests)")
        let file = NSTemporaryDirectory() + "proxy-\(UUID().uuidString).bin"
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let bucket = S3TestSupport.bucketName(#function)
        func upload(_ env: [String: String]) throws {
            var environment = env
            for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]
            where environment[name] == nil {
                environment[name] = ""
            }
            try TestEnvironment.run(bench, ["--endpoint", upstream, "--bucket", bucket, "--file", file], environment: environment)
        }

        let proxy = try S3FaultInjectionTests.FaultProxy(upstream: upstream, arguments: [])
        try upload(["http_proxy": proxy.endpoint])
        try upload(["http_proxy": proxy.endpoint, "NO_PROXY": "127.0.0.1"])
        let stats = proxy.stop()
        // CreateBucket + PutObject went through the proxy once, not the second time.
        #expect(stats.contains("'absolute_form': 2"), "proxy stats: \(stats)")
    }
}
