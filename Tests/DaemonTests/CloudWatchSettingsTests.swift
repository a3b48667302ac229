@testable import Daemon
import Testing

@Suite struct CloudWatchSettingsTests {
    let base = """
        [source]
        conninfo = "host=db dbname=app user=r"
        slot = "orders_slot"
        [target]
        url = "s3://bucket/prefix"
        region = "eu-west-1"

        """

    @Test func withoutTheSectionNothingIsPublishedAndDefaultsComeFromSourceAndTarget() throws {
        let config = try ConfigurationLoader.parse(base)
        #expect(config.cloudwatch == .init())
        let c = config.cloudwatch.resolved(targetRegion: config.target.region, slot: config.source.slot)
        #expect(!c.isEnabled)
        #expect(c.region == "eu-west-1")
        #expect(c.name == "orders_slot")
        #expect(c.intervalSeconds == 60)
    }

    @Test func everyKeyIsRead() throws {
        let c = try ConfigurationLoader.parse(
            base + """
                [cloudwatch]
                namespace = "replicatord"
                region = "us-west-2"
                interval_seconds = 30
                name = "prod-stack"
                endpoint = "http://127.0.0.1:5000"
                """
        ).cloudwatch.resolved(targetRegion: "eu-west-1", slot: "orders_slot")
        #expect(c == .init(namespace: "replicatord", region: "us-west-2", intervalSeconds: 30, name: "prod-stack", endpoint: "http://127.0.0.1:5000"))
        #expect(c.isEnabled)
    }

    @Test func theEffectiveTOMLLoadsBackEqual() throws {
        let c = try ConfigurationLoader.parse(base + "[cloudwatch]\nnamespace = \"n\"\n")
        #expect(try ConfigurationLoader.parse(c.effectiveTOML) == c)
    }

    @Test(arguments: [
        ("interval_seconds = 5", "cloudwatch.interval_seconds", "from 10 to 3600"),
        ("namespace = \"AWS/EC2\"", "cloudwatch.namespace", "AWS's own"),
        ("namespace = \"has space\"", "cloudwatch.namespace", "printable ASCII"),
        ("endpoint = \"ftp://x\"", "cloudwatch.endpoint", "http:// or https://"),
        ("nmespace = \"n\"", "cloudwatch.nmespace", "did you mean cloudwatch.namespace"),
    ])
    func badValuesAreRefusedNamingTheKey(line: String, key: String, message: String) {
        do {
            _ = try ConfigurationLoader.parse(base + "[cloudwatch]\n" + line + "\n")
            Issue.record("accepted \(line)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
