/// What `replicatord --version` prints.
public enum BuildInfo {
    /// The release version, also used by the Debian package.
    public static let version = "0.1.0"
}
