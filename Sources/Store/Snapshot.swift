import Contracts
import Foundation
import Pipeline

/// The warm-restart snapshot: each symbol's recent closed bars, written at graceful shutdown
/// to `<data_dir>/snapshot.json` and fed back to the indicators at start, so features are
/// ready without a new warm-up, with the opportunity aggregator's open episodes and cool-downs,
/// so an episode open at shutdown goes on under the same id. Versioned; a snapshot of another
/// version or bar interval is ignored (the server starts cold and says so). Risk-guard windows
/// are rebuilt from the bars; its open alerts are not carried over.
public enum Snapshot {
    public static let version = 2
    public static let fileName = "snapshot.json"

    public static func write(bars: [Bar], interval: String, aggregator: OpportunityAggregator.Saved? = nil,
                             to directory: String) throws {
        var w = JSONWriter(capacity: 128 * (bars.count + 1))
        w.beginObject()
        w.int("version", version)
        w.string("interval", interval)
        w.int64("taken_ms", Int64(Date().timeIntervalSince1970 * 1000))
        w.beginArray("bars")
        for bar in bars { EventEncoder.payload(bar, &w) }
        w.endArray()
        if let aggregator {
            w.beginObject("aggregator")
            w.beginArray("open")
            for (o, strengths) in aggregator.open {
                w.beginObject()
                EventEncoder.payload(o, &w, key: "opportunity")
                w.beginObject("strengths")
                for (name, value) in strengths.sorted(by: { $0.key < $1.key }) { w.double(name, value) }
                w.endObject()
                w.endObject()
            }
            w.endArray()
            w.beginObject("cooldowns")
            for (key, until) in aggregator.cooldowns.sorted(by: { $0.key < $1.key }) { w.int64(key, until) }
            w.endObject()
            w.endObject()
        }
        w.endObject()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(fileName)
        // Write then rename: a crash mid-write leaves the previous snapshot, never half of one.
        try Data(w.bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public enum Loaded {
        case bars([Bar], aggregator: OpportunityAggregator.Saved?)
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
        var aggregator: OpportunityAggregator.Saved?
        if case .object(let a)? = root["aggregator"] {
            var open: [(opportunity: Opportunity, strengths: [String: Double])] = []
            if case .array(let items)? = a["open"] {
                for item in items {
                    guard case .object(let entry) = item, case .object(let payload)? = entry["opportunity"],
                          case .opportunity(let o)? = JournalEvents.decode(type: "opportunity", payload: payload) else {
                        return .cold("\(path) has a malformed open opportunity")
                    }
                    var strengths: [String: Double] = [:]
                    if case .object(let s)? = entry["strengths"] { for (k, v) in s { strengths[k] = v.number } }
                    open.append((o, strengths))
                }
            }
            var cooldowns: [String: Int64] = [:]
            if case .object(let c)? = a["cooldowns"] { for (k, v) in c { if case .int(let t) = v { cooldowns[k] = Int64(t) } } }
            aggregator = OpportunityAggregator.Saved(open: open, cooldowns: cooldowns)
        }
        return .bars(bars, aggregator: aggregator)
    }
}
