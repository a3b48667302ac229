import Foundation

/// Object keys of CDC files, with or without date folders (``DatePartition``). Every place that
/// builds or takes apart such a key goes through here.
extension FileNaming {
    /// `schema/table/[date folders/]yyyyMMdd-HHmmssSSS.parquet` for the CDC file `name` (no extension).
    public static func cdcKey(schema: String, table: String, name: String, partition: DatePartition?) -> String {
        var key = tableFolder(schema: schema, table: table)
        if let partition, let ms = cdcMilliseconds(name) { key += partition.folder(unixMilliseconds: ms) }
        return key + name + ".parquet"
    }

    /// The table folder (`schema/table/`) of a data file's key, whatever date folders lie between:
    /// the first two segments (``keyComponent(_:)`` never lets a name hold a `/`).
    public static func tableFolder(ofKey key: String) -> String {
        let segments = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard segments.count >= 3 else {
            guard let slash = key.lastIndex(of: "/") else { return "" }
            return String(key[...slash])
        }
        return "\(segments[0])/\(segments[1])/"
    }

    /// The date folders of a data file's key between its table folder and its name (`2026/11/24/`),
    /// empty for a file directly in its table folder.
    public static func dateFolder(ofKey key: String) -> String {
        let table = tableFolder(ofKey: key)
        guard key.hasPrefix(table), let slash = key.lastIndex(of: "/") else { return "" }
        let start = key.index(key.startIndex, offsetBy: table.count)
        return start <= slash ? String(key[start...slash]) : ""
    }

    /// The file name of a CDC key without `.parquet` (`20261124-191512345`), nil for other keys.
    public static func cdcName(ofKey key: String) -> String? {
        guard let last = key.split(separator: "/").last, last.hasSuffix(".parquet") else { return nil }
        let name = String(last.dropLast(".parquet".count))
        return cdcMilliseconds(name) == nil ? nil : name
    }
}
