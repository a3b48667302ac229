/// The per-table families of `/metrics`, kept outside the swift-prometheus registry: the registry
/// copies a family's series dictionary for every new series, so the first update at 10,000 tables
/// (110,000 series) cost about a minute of CPU. Here a new series is one dictionary insert, and
/// the text is rendered on scrape: families in the order declared, series sorted by their labels.
struct LabeledFamilies {
    enum Kind: String { case counter, gauge }

    private struct Family {
        let name: String
        let kind: Kind
        let help: String
        /// Rendered label set (`{table="public.t",op="insert"}`) -> value.
        var series: [String: Double] = [:]
    }

    private var families: [Family]
    private var index: [String: Int] = [:]

    /// The families, by name, kind and help text.
    init(_ declared: [(name: String, kind: Kind, help: String)]) {
        families = declared.map { Family(name: $0.name, kind: $0.kind, help: $0.help) }
        for (i, f) in families.enumerated() { index[f.name] = i }
    }

    /// Sets a series; the family must be declared.
    mutating func set(_ name: String, _ labels: [(String, String)], to value: Double) {
        families[index[name]!].series[Self.labelText(labels)] = value
    }

    /// A series' value, nil when it was never set.
    func value(_ name: String, _ labels: [(String, String)]) -> Double? {
        families[index[name]!].series[Self.labelText(labels)]
    }

    /// Removes every series of a family (a gauge whose subject is gone).
    mutating func clear(_ name: String) {
        families[index[name]!].series.removeAll()
    }

    /// The Prometheus text format (0.0.4) of every family that has a series.
    func render() -> String {
        var out = ""
        for family in families where !family.series.isEmpty {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            for (labels, value) in family.series.sorted(by: { $0.key < $1.key }) {
                out += family.name + labels + " " + Self.number(value) + "\n"
            }
        }
        return out
    }

    /// `{a="x",b="y"}`, values escaped as the text format wants (`\\`, `\"`, `\n`).
    static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Whole numbers without a fraction (`5`, not `5.0`), others as Swift prints a Double.
    static func number(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }
}
