import Foundation

/// Documentation generated from `ConfigLoader.keys`, so it cannot drift from the code.
/// docs/CONFIG.md holds `markdownTable()` between `<!-- keys:begin -->` and `<!-- keys:end -->`
/// (a test fails when they differ).
public enum ConfigDocs {
    /// The Markdown table: key | environment | default | meaning (with the allowed values).
    public static func markdownTable() -> String {
        var lines = ["| key | environment | default | meaning |", "|---|---|---|---|"]
        for info in ConfigLoader.keys {
            let env = ([info.env] + info.aliases).map { "`\($0)`" }.joined(separator: ", ")
            let meaning = "\(info.doc) *Allowed:* \(info.allowedText)."
            lines.append("| `\(info.key)` | \(env) | `\(info.defaultText)` | \(escape(meaning)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Plain text for `--help` (e.g. a command's discussion): one entry per key.
    public static func helpText() -> String {
        ConfigLoader.keys.map { info in
            let env = ([info.env] + info.aliases).joined(separator: ", ")
            return "  \(info.key) (\(env)), default \(info.defaultText)\n      \(info.doc)"
        }.joined(separator: "\n")
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|")
    }
}
