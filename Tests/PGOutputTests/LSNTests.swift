import Testing
@testable import PGOutput

@Suite struct LSNTests {
    @Test func parsesAndPrintsTheServerForm() throws {
        let lsn = try #require(LSN("16/B374D848"))
        #expect(lsn.value == 0x16_B374_D848)
        #expect(lsn.description == "16/B374D848")
        #expect(LSN("0/0") == .zero)
    }

    @Test func parseRejectsMalformedText() {
        #expect(LSN("") == nil)
        #expect(LSN("16") == nil)
        #expect(LSN("1/2/3") == nil)
        #expect(LSN("G/0") == nil)
        #expect(LSN("123456789/0") == nil)
    }

    @Test func ordersByPosition() {
        #expect(LSN(1) < LSN(2))
        #expect(LSN("1/0")! > LSN("0/FFFFFFFF")!)
    }
}
