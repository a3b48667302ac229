import Testing
@testable import Daemon
@Test func versionIsSemantic() { #expect(BuildInfo.version.split(separator: ".").count == 3) }
