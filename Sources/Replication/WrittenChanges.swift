/// Which changes CDC files hold: DMS's `CdcInsertsOnly` and `CdcInsertsAndUpdates` (`[output]
/// cdc_inserts_only`, `cdc_inserts_and_updates`). The `Op` column stays in every CDC file, as DMS
/// keeps it in Parquet (its `IncludeOpForFullLoad` interplay is for .csv files only).
public enum WrittenChanges: String, Sendable, Equatable, CaseIterable {
    /// Every change: `I`, `U`, `D` (a key change as `D` + `I`) and `T`.
    case all
    /// `CdcInsertsOnly`: inserts only (`I`); updates, deletes and truncates are left out.
    case insertsOnly = "inserts-only"
    /// `CdcInsertsAndUpdates`: inserts (`I`) and updates (`U`, a key change too: the new row as
    /// one `U`, as the source ran one UPDATE); deletes and truncates are left out.
    case insertsAndUpdates = "inserts-and-updates"

    /// Whether updates are written.
    public var keepsUpdates: Bool { self != .insertsOnly }
    /// Whether deletes and truncates are written.
    public var keepsDeletes: Bool { self == .all }
}
