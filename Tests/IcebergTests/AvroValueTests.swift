import Testing
@testable import Iceberg

@Suite struct AvroValueTests {
    @Test func accessorsReturnNilForOtherKinds() {
        #expect(AvroValue.int(3).integerValue == 3)
        #expect(AvroValue.long(-4).integerValue == -4)
        #expect(AvroValue.string("x").integerValue == nil)
        #expect(AvroValue.fixed([1]).bytesValue == [1])
        #expect(AvroValue.bytes([2]).bytesValue == [2])
        #expect(AvroValue.null.stringValue == nil)
        #expect(AvroValue.record([.null]).recordFields == [.null])
        #expect(AvroValue.array([]).recordFields == nil)
    }
}
