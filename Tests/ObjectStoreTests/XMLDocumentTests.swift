import Testing
@testable import ObjectStore

@Suite struct XMLDocumentTests {
    @Test func parsesElementsTextEntitiesAndSkipsAttributes() throws {
        let doc = try XMLElement.parse(
            Array(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- comment --><a:Root xmlns:a="urn:x" attr='v>w'><Key>a &amp; b &lt;c&gt; &#65;&#x42;</Key><Empty/>
                <Data><![CDATA[<raw>]]></Data></a:Root>
                """.utf8))
        #expect(doc.name == "Root")
        #expect(doc.value("Key") == "a & b <c> AB")
        #expect(doc.child("Empty") == XMLElement(name: "Empty", children: [], text: ""))
        #expect(doc.value("Data") == "<raw>")
    }

    @Test func parseFailsOnMismatchedTag() {
        #expect(throws: XMLElement.ParseError.self) { try XMLElement.parse(Array("<a><b></a></b>".utf8)) }
    }

    @Test func parseFailsOnTruncatedDocument() {
        #expect(throws: XMLElement.ParseError.self) { try XMLElement.parse(Array("<a><b>text".utf8)) }
        #expect(throws: XMLElement.ParseError.self) { try XMLElement.parse(Array("<a".utf8)) }
        #expect(throws: XMLElement.ParseError.self) { try XMLElement.parse([]) }
    }

    @Test func parseFailsOnUnknownEntityAndTrailingContent() {
        #expect(throws: XMLElement.ParseError.self) { try XMLElement.parse(Array("<a>&nbsp;</a>".utf8)) }
        #expect(throws: XMLElement.ParseError.self) { try XMLElement.parse(Array("<a/><b/>".utf8)) }
    }
}
