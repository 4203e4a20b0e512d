/// A bar interval such as `1s`, `5s`, `1m`, `15m`, `1h`, `1d`.
public struct BarInterval: Sendable, Equatable, CustomStringConvertible {
    public let milliseconds: Int64
    /// The label as written in config and in events.
    public let label: String

    /// Parses `<n><unit>` with unit ms, s, m, h or d; nil when malformed or not positive.
    public init?(_ text: String) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard let n = Int64(digits), n > 0 else { return nil }
        let unit: Int64
        switch text.dropFirst(digits.count) {
        case "ms": unit = 1
        case "s": unit = 1000
        case "m": unit = 60_000
        case "h": unit = 3_600_000
        case "d": unit = 86_400_000
        default: return nil
        }
        let (ms, overflow) = n.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        milliseconds = ms
        label = text
    }

    public var description: String { label }

    /// The start of the bucket holding `ts`: floor(ts / interval) · interval (also for ts < 0).
    @inline(__always)
    public func bucket(_ ts: Int64) -> Int64 {
        let q = ts / milliseconds
        return (ts % milliseconds < 0 ? q - 1 : q) * milliseconds
    }
}
