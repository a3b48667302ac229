import Foundation
import Testing

/// The Iceberg target is a leaf (ARCHITECTURE.md): it knows neither PostgreSQL nor S3, so its
/// sources import Foundation and zlib only. SwiftPM's import check does not catch a transitive
/// import, so this reads the sources.
@Suite struct IcebergModuleBoundaryTests {
    @Test func sourcesImportOnlyFoundationAndZlib() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/Iceberg")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 10)
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let i = words.firstIndex(of: "import"), words[..<i].allSatisfy({ $0.hasPrefix("@") || $0 == "public" || $0 == "internal" })
                else { continue }
                let module = words.count > i + 1 ? String(words[i + 1]) : ""
                #expect(["Foundation", "CZlib"].contains(module), "\(file) imports \(module)")
            }
        }
    }
}
