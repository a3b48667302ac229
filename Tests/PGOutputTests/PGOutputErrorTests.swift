import Testing
@testable import PGOutput

@Suite struct PGOutputErrorTests {
    @Test func descriptionNamesCodeMessageAndOffset() {
        let error = PGOutputError(code: .truncated, messageKind: "Insert", offset: 17, detail: "needed 4 bytes, 1 left")
        #expect(error.description == "PGOutputError.truncated in Insert at byte 17: needed 4 bytes, 1 left")
    }

    @Test func inMessageKeepsAnInnerName() {
        let inner = PGOutputError(code: .invalidValue, offset: 3, detail: "x")
        #expect(inner.inMessage("Update").messageKind == "Update")
        #expect(inner.inMessage("Update").inMessage("XLogData").messageKind == "Update")
    }

    @Test func errorsNeverCarryRowValues() {
        // A text value whose length field overruns the message: the error describes lengths, not the value.
        let bytes = Fixture.insert(relationOID: 1, new: [.text("secret-value")])
        let error = decodeError { () throws(PGOutputError) in try PGOutputMessage.decode(Array(bytes.dropLast())) }
        #expect(error?.code == .truncated)
        #expect(error.map { !$0.description.contains("secret") } == true)
    }
}
