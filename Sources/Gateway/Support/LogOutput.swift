import Contracts
import Foundation
import Glibc
import Logging
import Synchronization

/// The process's log settings that change at runtime (`PUT /admin/log`): the level and the
/// access log. One instance per process, shared by every logger the handler makes.
public final class LogControl: Sendable {
    public static let shared = LogControl()

    public init() {}

    private let levelValue = Atomic<UInt8>(2)  // info
    private let accessLogValue = Atomic<Bool>(false)
    private let formatValue = Atomic<UInt8>(0)

    public enum Format: String, Sendable, CaseIterable { case logfmt, json }

    public var level: Logger.Level {
        get { Self.levels[Int(levelValue.load(ordering: .relaxed))] }
        set { levelValue.store(UInt8(Self.levels.firstIndex(of: newValue) ?? 2), ordering: .relaxed) }
    }
    public var accessLog: Bool {
        get { accessLogValue.load(ordering: .relaxed) }
        set { accessLogValue.store(newValue, ordering: .relaxed) }
    }
    public var format: Format {
        get { formatValue.load(ordering: .relaxed) == 0 ? .logfmt : .json }
        set { formatValue.store(newValue == .logfmt ? 0 : 1, ordering: .relaxed) }
    }

    static let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
}

/// Writes structured lines to stderr: logfmt (`ts=… level=info logger=dongfeng msg="…" k=v`) or
/// JSON objects, one per line, with the logger's and the call's metadata. The level lives in
/// `LogControl`, so an admin request changes it for every logger at once.
public struct StructuredLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let control: LogControl

    public init(label: String, control: LogControl = .shared) {
        self.label = label
        self.control = control
    }

    public var logLevel: Logger.Level {
        get { control.level }
        set { control.level = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Self.format(control.format, ts: Date(), level: event.level, label: label,
                               message: "\(event.message)", metadata: merged)
        // One write(2) per line: lines from several threads never interleave.
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// One line, newline-terminated.
    static func format(_ format: LogControl.Format, ts: Date, level: Logger.Level, label: String, message: String,
                       metadata: Logger.Metadata) -> String {
        let stamp = timestamp(ts)
        let fields = metadata.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        switch format {
        case .logfmt:
            var line = "ts=\(stamp) level=\(level.rawValue) logger=\(logfmtValue(label)) msg=\(logfmtValue(message))"
            for (key, value) in fields { line += " \(logfmtKey(key))=\(logfmtValue(value))" }
            return line + "\n"
        case .json:
            var line = "{\"ts\":\(jsonString(stamp)),\"level\":\(jsonString(level.rawValue)),\"logger\":\(jsonString(label)),\"msg\":\(jsonString(message))"
            for (key, value) in fields where !["ts", "level", "logger", "msg"].contains(key) {
                line += ",\(jsonString(key)):\(jsonString(value))"
            }
            return line + "}\n"
        }
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms % 1000))
    }

    /// A logfmt value: bare when it is a plain word, else quoted with `"` and `\` escaped and
    /// control characters written as escapes (a value can never break the line).
    static func logfmtValue(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { s in
            s.value > 0x20 && s.value != 0x7F && s != "\"" && s != "=" && s != "\\"
        }
        return plain ? value : jsonString(value)
    }

    static func logfmtKey(_ key: String) -> String {
        let cleaned = key.unicodeScalars.map { s -> String in
            s.value > 0x20 && s.value < 0x7F && s != "\"" && s != "=" ? String(s) : "_"
        }.joined()
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// A JSON string literal (the project's one escaper, `JSONWriter.appendEscaped`).
    static func jsonString(_ value: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendEscaped(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
