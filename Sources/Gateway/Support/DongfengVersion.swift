/// The product version shown in `Server`, health responses, the page and `--version`.
public enum DongfengVersion {
    public static let current = "0.1.0"
}
