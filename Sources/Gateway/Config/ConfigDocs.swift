import Foundation

/// The Markdown table of every config key, as committed in docs/CONFIG.md (a test keeps them equal).
public enum ConfigDocs {
    public static func table() -> String {
        var lines = ["| key | environment | default | meaning |", "|---|---|---|---|"]
        for info in ConfigLoader.keys {
            let env = info.alias.map { "`\(info.env)`, `\($0)`" } ?? "`\(info.env)`"
            let doc = info.doc.replacingOccurrences(of: "|", with: "\\|")
            lines.append("| `\(info.key)` | \(env) | `\(info.defaultText)` | \(doc) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
