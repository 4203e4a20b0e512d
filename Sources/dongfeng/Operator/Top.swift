import ArgumentParser
import CLinux
import Foundation
import Glibc
import Operator
import Synchronization

/// `dongfeng top`: a live terminal dashboard of a running server (rates, connections, rings,
/// stage latency quantiles, recent alerts), redrawn in place from /admin/metrics; `q` or
/// Ctrl-C quits. Fits 80×24 and uses more room when the terminal has it.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live terminal dashboard of a running server (q or Ctrl-C quits).")

    @OptionGroup var client: ClientOptions
    @Option(help: "Seconds between refreshes.")
    var interval: Double = 1
    @Flag(help: "Print one frame (after one interval, so rates are real) and exit: for scripts.")
    var once = false

    static let stop = Atomic<Bool>(false)

    func validate() throws {
        guard interval >= 0.2, interval <= 60 else { throw ValidationError("--interval must be within 0.2...60 s") }
    }

    func run() throws {
        let http = try client.http()
        var previous: (PrometheusSamples, Int64)?
        let tty = isatty(0) == 1 && !once
        var saved = termios()
        if tty {
            tcgetattr(0, &saved)
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            tcsetattr(0, TCSANOW, &raw)
        }
        signal(SIGINT) { _ in Top.stop.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in Top.stop.store(true, ordering: .relaxed) }
        if !once { Terminal.write("\u{1B}[?1049h\u{1B}[?25l") }  // alternate screen, no cursor
        defer {
            if !once { Terminal.write("\u{1B}[?25h\u{1B}[?1049l") }
            if tty { tcsetattr(0, TCSANOW, &saved) }
        }
        var frames = 0
        while !Top.stop.load(ordering: .relaxed) {
            let frame: [String]
            do {
                let metrics = try http.get("/admin/metrics")
                if metrics.status == 401 || metrics.status == 403 {
                    throw Terminal.fail("/admin/metrics: \(metrics.errorMessage) (pass --token or DFP_ADMIN_TOKEN)", code: 1)
                }
                guard metrics.status == 200 else { throw ClientError("/admin/metrics answered \(metrics.status)") }
                let samples = PrometheusSamples(parsing: metrics.text)
                let now = dfl_monotonic_ns()
                let health = (try? http.get("/admin/health"))?.json as? [String: Any]
                let alerts = ((try? http.get("/api/v1/alerts?limit=8"))?.json as? [String: Any])?["items"] as? [[String: Any]] ?? []
                let size = Self.terminalSize()
                frame = TopScreen.render(samples, previous: previous, nowNs: now, health: health, alerts: alerts,
                                         endpoint: (try? client.endpoint().description) ?? "", width: size.width, height: size.height)
                previous = (samples, now)
            } catch let error as ExitCode {
                throw error
            } catch {
                frame = ["dongfeng top — \(error)", "", "retrying every \(interval) s; q quits"]
            }
            frames += 1
            if once {
                if frames >= 2 { print(frame.joined(separator: "\n")); return }
            } else {
                Terminal.write("\u{1B}[H" + frame.map { $0 + "\u{1B}[K" }.joined(separator: "\r\n") + "\u{1B}[J")
            }
            if Self.waitForQuit(ms: Int(interval * 1000), tty: tty) { return }
        }
    }

    /// Waits for the refresh interval; true when `q` or Ctrl-C arrived.
    static func waitForQuit(ms: Int, tty: Bool) -> Bool {
        let end = dfl_monotonic_ms() + Int64(ms)
        while !stop.load(ordering: .relaxed) {
            let left = end - dfl_monotonic_ms()
            if left <= 0 { return false }
            guard tty else {
                usleep(UInt32(min(left, 100) * 1000))
                continue
            }
            var fds = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, Int32(min(left, 100))) > 0 {
                var byte: UInt8 = 0
                if read(0, &byte, 1) == 1, byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") || byte == 3 { return true }
            }
        }
        return true
    }

    static func terminalSize() -> (width: Int, height: Int) {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        return (80, 24)
    }
}

/// One frame of `top`: plain lines, each cut to the terminal width, at most `height` of them.
enum TopScreen {
    static func render(_ m: PrometheusSamples, previous: (PrometheusSamples, Int64)?, nowNs: Int64, health: [String: Any]?,
                       alerts: [[String: Any]], endpoint: String, width: Int, height: Int) -> [String] {
        func rate(_ name: String) -> String {
            guard let (before, thenNs) = previous, nowNs > thenNs else { return "-" }
            let delta = m.sum(name) - before.sum(name)
            return number(max(0, delta) / (Double(nowNs - thenNs) / 1e9))
        }
        var lines: [String] = []
        let clock = EventLine.time(NSNumber(value: Int64(Date().timeIntervalSince1970 * 1000)))
        let uptime = m.value("dongfeng_uptime_seconds").map { Health.duration($0) } ?? "?"
        lines.append(Terminal.bold("dongfeng top") + " — \(endpoint)  up \(uptime)  \(clock.prefix(8))  [q quit]")
        let status = health?["status"] as? String ?? "?"
        var parts = ["status " + Terminal.state(status)]
        if let components = health?["components"] as? [String: Any] {
            for name in ["pipeline", "feed", "journal", "redis"] {
                if let c = components[name] as? [String: Any], let s = c["status"] as? String { parts.append("\(name) " + Terminal.state(s)) }
            }
        }
        lines.append(parts.joined(separator: "  "))
        lines.append(String(repeating: "─", count: min(width, 80)))
        lines.append("ticks/s \(pad(rate("dongfeng_ticks_total"), 9)) bars/s \(pad(rate("dongfeng_bars_total"), 7)) signals/s \(pad(rate("dongfeng_signals_total"), 7)) opps/s \(rate("dongfeng_opportunity_events_total"))")
        lines.append("alerts/s \(pad(rate("dongfeng_risk_alerts_total"), 8)) http req/s \(pad(rate("dongfeng_http_requests_total"), 7)) last seq \(number(m.value("dongfeng_last_seq") ?? 0))")
        let channels = m.all("dongfeng_websocket_subscribers").filter { $0.value > 0 }
            .map { "\($0.labels["channel"] ?? "?") \(Int($0.value))" }.joined(separator: ", ")
        lines.append("conns \(pad(number(m.value("dongfeng_connections_open") ?? 0), 6)) ws \(Int(m.value("dongfeng_websocket_sessions") ?? 0))\(channels.isEmpty ? "" : " (\(channels))")  rss \(bytes(m.value("dongfeng_resident_memory_bytes") ?? 0))")
        let rings = m.all("dongfeng_ring_depth").map { "\($0.labels["ring"] ?? "?") \(Int($0.value))" }.joined(separator: "  ")
        let busy = m.sum("dongfeng_ticks_rejected_busy_total"), dropped = m.sum("dongfeng_ring_lossy_dropped_total")
        lines.append("rings \(rings)" + (busy + dropped > 0 ? "  refused \(Int(busy)) dropped \(Int(dropped))" : ""))
        lines.append("")
        lines.append(Terminal.bold("latency, last 10-20 s  ") + "      p50       p90       p99     p99.9     count")
        let stages: [(String, String, [String: String])] = [
            ("tick → processed", "dongfeng_stage_latency_seconds_recent", ["stage": "tick"]),
            ("tick → features", "dongfeng_stage_latency_seconds_recent", ["stage": "features"]),
            ("tick → signal", "dongfeng_stage_latency_seconds_recent", ["stage": "signal"]),
            ("tick → opportunity", "dongfeng_stage_latency_seconds_recent", ["stage": "opportunity"]),
            ("tick → ws write", "dongfeng_stage_latency_seconds_recent", ["stage": "ws_write"]),
            ("http request", "dongfeng_http_request_duration_seconds_recent", [:]),
        ]
        for (title, name, labels) in stages {
            var row = "  " + Terminal.pad(title, 20)
            for q in ["0.5", "0.9", "0.99", "0.999"] {
                row += pad(duration(m.value(name, labels.merging(["quantile": q]) { $1 })), 10, right: true)
            }
            let count = m.value(name + "_count", labels) ?? 0
            row += pad(number(count), 10, right: true)
            lines.append(row)
        }
        lines.append("")
        lines.append(Terminal.bold("recent risk alerts"))
        let room = max(0, height - lines.count)
        if alerts.isEmpty && room > 0 { lines.append(Terminal.dim("  none")) }
        for alert in alerts.prefix(room) {
            let severity = alert["severity"] as? String ?? ""
            let sev = severity == "critical" ? Terminal.red(pad(severity, 8)) : Terminal.yellow(pad(severity, 8))
            lines.append("  \(EventLine.time(alert["ts"]).prefix(8)) \(sev) \(pad(alert["kind"] as? String ?? "", 16)) \(pad(alert["symbol"] as? String ?? "*", 11)) \(alert["message"] as? String ?? "")")
        }
        return lines.prefix(height).map { cut($0, width) }
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let n = visible(s)
        guard n < width else { return s }
        let fill = String(repeating: " ", count: width - n)
        return right ? fill + s : s + fill
    }

    /// Characters on screen (colour escapes take none).
    static func visible(_ s: String) -> Int {
        var n = 0
        var inEscape = false
        for c in s.unicodeScalars {
            if inEscape { if c == "m" { inEscape = false }; continue }
            if c == "\u{1B}" { inEscape = true; continue }
            n += 1
        }
        return n
    }

    /// Cuts a line to `width` visible characters, keeping escapes and resetting colour.
    static func cut(_ s: String, _ width: Int) -> String {
        guard visible(s) > width else { return s }
        var out = ""
        var n = 0
        var inEscape = false
        for c in s.unicodeScalars {
            if inEscape { out.unicodeScalars.append(c); if c == "m" { inEscape = false }; continue }
            if c == "\u{1B}" { inEscape = true; out.unicodeScalars.append(c); continue }
            if n == width { break }
            out.unicodeScalars.append(c)
            n += 1
        }
        return out + (Terminal.colours ? "\u{1B}[0m" : "")
    }

    static func number(_ x: Double) -> String {
        if x.isNaN { return "-" }
        if x >= 1_000_000 { return String(format: "%.2fM", x / 1_000_000) }
        if x >= 10_000 { return String(format: "%.1fk", x / 1000) }
        if x == x.rounded() { return String(Int(x)) }
        return String(format: x >= 100 ? "%.0f" : "%.1f", x)
    }

    static func duration(_ seconds: Double?) -> String {
        guard let s = seconds, !s.isNaN else { return "-" }
        if s < 1e-6 { return String(format: "%.0f ns", s * 1e9) }
        if s < 1e-3 { return String(format: "%.1f µs", s * 1e6) }
        if s < 1 { return String(format: "%.2f ms", s * 1e3) }
        return String(format: "%.2f s", s)
    }

    static func bytes(_ b: Double) -> String {
        b >= 1_073_741_824 ? String(format: "%.1f GB", b / 1_073_741_824) : String(format: "%.0f MB", b / Double(1 << 20))
    }
}
