import Testing
@testable import Iceberg

@Suite struct IcebergErrorTests {
    @Test func descriptionNamesCodeMessageAndCause() {
        let cause = IcebergError(.compressionFailed, "inflate returned -3")
        let e = IcebergError(.avroMismatch, "block 2", underlying: cause)
        #expect(e.description == "Iceberg avroMismatch: block 2 (Iceberg compressionFailed: inflate returned -3)")
        #expect(IcebergError(.invalidCommit, "x").description == "Iceberg invalidCommit: x")
    }
}
