import Contracts
import Foundation

/// The warm-restart snapshot: each symbol's recent closed bars, written at graceful shutdown
/// to `<data_dir>/snapshot.json` and fed back to the indicators at start, so features are
/// ready without a new warm-up. Versioned; a snapshot of another version or bar interval is
/// ignored (the server starts cold and says so). Aggregator and risk episodes are not kept:
/// open opportunities expire across a restart, and their history is in the journal.
public enum Snapshot {
    public static let version = 1
    public static let fileName = "snapshot.json"

    public static func write(bars: [Bar], interval: String, to directory: String) throws {
        var w = JSONWriter(capacity: 128 * (bars.count + 1))
        w.beginObject()
        w.int("version", version)
        w.string("interval", interval)
        w.int64("taken_ms", Int64(Date().timeIntervalSince1970 * 1000))
        w.beginArray("bars")
        for bar in bars { EventEncoder.payload(bar, &w) }
        w.endArray()
        w.endObject()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(fileName)
        // Write then rename: a crash mid-write leaves the previous snapshot, never half of one.
        try Data(w.bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public enum Loaded {
        case bars([Bar])
        /// Why the server starts cold.
        case cold(String)
    }

    public static func read(from directory: String, interval: String) -> Loaded {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return .cold("no snapshot in \(directory)") }
        guard case .success(.object(let root)) = JSONValue.parse(data) else { return .cold("\(path) is not JSON") }
        guard case .int(let v)? = root["version"], v == version else {
            return .cold("\(path) is version \(root["version"]?.text ?? "?"), this server reads version \(version)")
        }
        guard case .string(let taken)? = root["interval"], taken == interval else {
            return .cold("\(path) holds \(root["interval"]?.text ?? "?") bars, the pipeline runs \(interval) bars")
        }
        guard case .array(let items)? = root["bars"] else { return .cold("\(path) has no bars") }
        var bars: [Bar] = []
        for item in items {
            guard case .object(let b) = item, case .string(let symbol)? = b["symbol"], case .int(let start)? = b["start"],
                  let open = b["open"]?.number, let high = b["high"]?.number, let low = b["low"]?.number,
                  let close = b["close"]?.number, let volume = b["volume"]?.number, let vwap = b["vwap"]?.number,
                  case .int(let trades)? = b["trades"] else { return .cold("\(path) has a malformed bar") }
            bars.append(Bar(symbol: symbol, interval: interval, start: Int64(start), open: open, high: high, low: low,
                            close: close, volume: volume, vwap: vwap, trades: trades))
        }
        return .bars(bars)
    }
}
