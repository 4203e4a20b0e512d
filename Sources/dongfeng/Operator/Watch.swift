import ArgumentParser
import Contracts
import Foundation
import Operator

/// `dongfeng watch`: the live event stream in a readable table or as NDJSON; on a lost
/// connection it reconnects and resumes after the last seq it printed (no gap, no duplicate).
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream live events (opportunities, signals, risk alerts, ticks, bars, features); resumes on reconnect.")

    @OptionGroup var client: ClientOptions
    @Option(help: "Comma-separated channels: opportunities, signals, risk_alerts, ticks, bars, features.")
    var channels = "opportunities,signals,risk_alerts"
    @Option(help: "Comma-separated symbols (default: all).")
    var symbols: String?
    @Option(name: .customLong("min-confidence"), help: "Only opportunities at or above this confidence (0-1).")
    var minConfidence: Double?
    @Option(name: .customLong("since-seq"), help: "Replay sequenced events after this seq first.")
    var sinceSeq: UInt64?
    @Flag(help: "One JSON message per line (NDJSON) instead of the table.")
    var json = false
    @Option(help: "Exit after this many events.")
    var count: Int?

    func validate() throws {
        for c in channels.split(separator: ",") where Channel(rawValue: String(c)) == nil {
            throw ValidationError("unknown channel \(c): use \(Channel.names)")
        }
        if let minConfidence, !(0...1).contains(minConfidence) { throw ValidationError("--min-confidence must be within 0...1") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        let endpoint = try client.endpoint()
        var lastSeq = sinceSeq
        var printed = 0
        var backoffMs = 250
        var everConnected = false
        while true {
            var path = "/ws?channels=\(channels)"
            if let symbols { path += "&symbols=\(symbols)" }
            if let minConfidence { path += "&min_confidence=\(minConfidence)" }
            if let lastSeq { path += "&since_seq=\(lastSeq)" }
            let socket: OperatorWebSocket
            do {
                socket = try OperatorWebSocket(endpoint, path: path, trust: client.trust,
                                               headers: client.ingestKey.map { [("X-API-Key", $0)] } ?? [],
                                               timeoutMs: 75_000)
            } catch {
                if !everConnected && error.description.contains("refused:") { throw Terminal.fail(error.description, code: 1) }
                FileHandle.standardError.write(Data("dongfeng: \(error); retrying in \(backoffMs) ms\n".utf8))
                usleep(UInt32(backoffMs * 1000))
                backoffMs = min(backoffMs * 2, 5_000)
                continue
            }
            everConnected = true
            backoffMs = 250
            if !json {
                FileHandle.standardError.write(Data("watching \(channels) at \(endpoint)\(lastSeq.map { " from seq \($0)" } ?? "")\n".utf8))
            }
            reading: while true {
                let message: OperatorWebSocket.Message
                do { message = try socket.next() } catch { message = .closed(code: nil, reason: error.description) }
                switch message {
                case .text(let text):
                    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                          let type = object["type"] as? String else { continue }
                    if type == "error" {
                        FileHandle.standardError.write(Data("dongfeng: server: \(object["code"] ?? "") \(object["message"] ?? "")\n".utf8))
                        continue
                    }
                    guard EventLine.eventTypes.contains(type) else { continue }
                    if let seq = (object["seq"] as? NSNumber)?.uint64Value {
                        if let last = lastSeq, seq <= last { continue }  // already printed before a reconnect
                        lastSeq = seq
                    }
                    // Straight to the descriptor: each event shows at once, even through a pipe.
                    Terminal.write((json ? text : EventLine.render(object)) + "\n")
                    printed += 1
                    if let count, printed >= count {
                        socket.close()
                        return
                    }
                case .closed(let code, let reason):
                    socket.close()
                    FileHandle.standardError.write(Data("dongfeng: stream closed (\(code.map(String.init) ?? "no code") \(reason)); reconnecting\(lastSeq.map { " from seq \($0)" } ?? "")\n".utf8))
                    if code == 1008 || code == 1003 { throw Terminal.fail("the server refused the stream: \(reason)", code: 1) }
                    usleep(UInt32(backoffMs * 1000))
                    break reading
                }
            }
        }
    }
}

/// One event as a table row (also the recent-alerts lines of `top`).
enum EventLine {
    static let eventTypes = Set(Channel.allCases.map(\.eventType))

    static func time(_ ms: Any?) -> String {
        guard let ms = (ms as? NSNumber)?.int64Value else { return "--:--:--.---" }
        var t = time_t(ms / 1000)
        var parts = tm()
        localtime_r(&t, &parts)
        return String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, Int(ms % 1000))
    }

    static func number(_ value: Any?, _ digits: Int = 2) -> String {
        guard let d = (value as? NSNumber)?.doubleValue else { return "-" }
        return String(format: "%.\(digits)f", d)
    }

    static func render(_ message: [String: Any]) -> String {
        let type = message["type"] as? String ?? "?"
        let p = message["payload"] as? [String: Any] ?? [:]
        let seq = (message["seq"] as? NSNumber).map { "#\($0)" } ?? ""
        let symbol = Terminal.pad(p["symbol"] as? String ?? "*", 11)
        let kind = Terminal.pad(type, 11)
        switch type {
        case "opportunity":
            let direction = p["direction"] as? String ?? "?"
            let dir = direction == "long" ? Terminal.green(Terminal.pad(direction, 5)) : Terminal.red(Terminal.pad(direction, 5))
            let strategies = (p["strategies"] as? [String] ?? []).joined(separator: ",")
            return "\(time(p["updated_ts"])) \(Terminal.pad(seq, 8)) \(Terminal.bold(kind)) \(symbol) \(dir) \(Terminal.pad(p["status"] as? String ?? "", 8)) conf \(number(p["confidence"])) @ \(number(p["price"], 4))  \(strategies)"
        case "signal":
            let direction = p["direction"] as? String ?? "?"
            let dir = direction == "long" ? Terminal.green(Terminal.pad(direction, 5)) : Terminal.red(Terminal.pad(direction, 5))
            return "\(time(p["ts"])) \(Terminal.pad(seq, 8)) \(kind) \(symbol) \(dir) \(Terminal.pad(p["strategy"] as? String ?? "", 17)) str \(number(p["strength"]))  \(p["reason"] as? String ?? "")"
        case "risk_alert":
            let severity = p["severity"] as? String ?? ""
            let sev = severity == "critical" ? Terminal.red(Terminal.pad(severity, 8)) : Terminal.yellow(Terminal.pad(severity, 8))
            return "\(time(p["ts"])) \(Terminal.pad(seq, 8)) \(kind) \(symbol) \(sev) \(p["kind"] as? String ?? ""): \(p["message"] as? String ?? "")"
        case "tick":
            return "\(time(p["ts"])) \(Terminal.pad("", 8)) \(Terminal.dim(kind)) \(symbol) \(number(p["price"], 4)) x \(number(p["volume"], 0))"
        case "bar":
            return "\(time(p["start"])) \(Terminal.pad("", 8)) \(kind) \(symbol) o \(number(p["open"], 4)) h \(number(p["high"], 4)) l \(number(p["low"], 4)) c \(number(p["close"], 4)) v \(number(p["volume"], 0))"
        default:
            let values = p.keys.filter { !["symbol", "ts", "interval"].contains($0) }.sorted().prefix(6)
                .map { "\($0)=\(number(p[$0], 3))" }.joined(separator: " ")
            return "\(time(p["ts"])) \(Terminal.pad("", 8)) \(kind) \(symbol) \(values)"
        }
    }
}
