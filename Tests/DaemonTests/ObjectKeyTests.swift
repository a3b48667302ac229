import Testing
@testable import Daemon

/// Table names become object key segments that are readable where they can be and safe always:
/// no climbing out of the prefix, no extra folder level, no hidden or glob-looking names, and no
/// two tables sharing a folder.
@Suite struct ObjectKeyTests {
    @Test(arguments: [
        ("orders", "orders"),
        ("Orders", "Orders"),
        ("my table", "my table"),
        ("größe", "größe"),
        ("表", "表"),
        ("v1.2", "v1.2"),
        ("a/b", "a%2Fb"),
        ("\"q\"", "%22q%22"),
        ("it's", "it%27s"),
        ("50%", "50%25"),
        ("..", "%2E."),
        (".hidden", "%2Ehidden"),
        ("a*b?[c]", "a%2Ab%3F%5Bc%5D"),
        ("back\\slash", "back%5Cslash"),
        ("tab\there", "tab%09here"),
        ("c1\u{85}", "c1%C2%85"),
        ("", "%00"),
    ])
    func identifierMapsToItsKeySegment(name: String, segment: String) {
        #expect(FileNaming.keyComponent(name) == segment)
    }

    @Test func theFolderJoinsSchemaAndTable() {
        #expect(FileNaming.tableFolder(schema: "public", table: "orders") == "public/orders/")
        #expect(FileNaming.tableFolder(schema: "..", table: "../etc") == "%2E./%2E.%2Fetc/")
    }

    @Test func differentNamesNeverShareAFolder() {
        let names = ["a/b", "a%2Fb", "a", "b", "a b", "a.b", ".a", "%2Ea", "", "%00", "A", "é"]
        var folders: [String: String] = [:]
        for schema in names {
            for table in names {
                let folder = FileNaming.tableFolder(schema: schema, table: table)
                #expect(folders[folder] == nil, "\(schema).\(table) and \(folders[folder] ?? "") share \(folder)")
                folders[folder] = "\(schema).\(table)"
                #expect(folder.split(separator: "/", omittingEmptySubsequences: false).count == 3)
                #expect(!folder.hasPrefix(".") && !folder.contains("/."))
            }
        }
    }
}
