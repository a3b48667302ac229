import Testing
@testable import Daemon

@Test func errorDescriptionHasPathLineKeyAndMessage() {
    let error = ConfigurationError(
        .invalidValue, path: "replicatord.toml", key: "target.url", line: 7,
        message: #"expected s3://bucket/prefix or file:///absolute/path, got "ftp://x""#)
    #expect(error.description == #"replicatord.toml:7: target.url: expected s3://bucket/prefix or file:///absolute/path, got "ftp://x""#)
}

@Test func errorDescriptionLeavesOutUnknownLine() {
    let error = ConfigurationError(.missingKey, path: "/etc/r.toml", key: "source.conninfo", message: "missing")
    #expect(error.description == "/etc/r.toml: source.conninfo: missing")
}

@Test func errorDescriptionLeavesOutKeyForWholeFile() {
    let error = ConfigurationError(.unreadableFile, path: "/nope.toml", message: "no such file")
    #expect(error.description == "/nope.toml: no such file")
}
