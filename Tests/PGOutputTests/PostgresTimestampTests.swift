import Testing
@testable import PGOutput

@Suite struct PostgresTimestampTests {
    @Test func convertsBetweenPostgresAndUnixEpochs() {
        #expect(PostgresTimestamp.postgresEpoch.unixMicroseconds == 946_684_800_000_000)
        let instant = PostgresTimestamp(unixMicroseconds: 1_700_000_000_123_456)
        #expect(instant.microsecondsSince2000 == 1_700_000_000_123_456 - 946_684_800_000_000)
        #expect(instant.unixMicroseconds == 1_700_000_000_123_456)
        #expect(PostgresTimestamp(microsecondsSince2000: -1) < .postgresEpoch)
    }
}
