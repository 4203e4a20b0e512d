import ArgumentParser
import CLinux
import Contracts
import Foundation
import Operator
import Pipeline

/// `dongfeng trigger`: sends a crafted tick sequence that makes one built-in strategy fire on a
/// fresh symbol, waits for the signal and the opportunity on the WebSocket, and prints them with
/// the latency measured from sending the ticks (the seed's test_trigger_strategy).
struct Trigger: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a built-in strategy fire on a fresh symbol and print the opportunity with its latency.",
        discussion: "Built-in strategies: \(StrategyRegistry.builtinNames.joined(separator: ", ")). The ticks go to POST /api/v1/ticks (pass --api-key when the server needs one); the result is read from the WebSocket.")

    @OptionGroup var client: ClientOptions
    @Option(help: "The built-in strategy to fire.")
    var strategy: String
    @Option(help: "Symbol to use (default: a fresh TRIG-… symbol, so no earlier history interferes).")
    var symbol: String?
    @Flag(help: "Print one JSON object with the result.")
    var json = false

    func validate() throws {
        guard StrategyRegistry.builtinNames.contains(strategy) else {
            throw ValidationError("no crafted sequence for \(strategy): built-in strategies are \(StrategyRegistry.builtinNames.joined(separator: ", "))")
        }
        if let symbol, let problem = Tick.symbolProblem(symbol) { throw ValidationError("--symbol \(problem)") }
    }

    func run() throws {
        let http = try client.http()
        let endpoint = try client.endpoint()
        // The server's interval and whether the strategy is on (this also opens the connection
        // the ticks go over, so the measured time holds no TLS handshake).
        let described: HTTPReply
        do { described = try http.get("/api/v1/strategies") } catch { throw Terminal.fail("\(error)", code: 2) }
        guard described.status == 200, let body = described.json as? [String: Any],
              let items = body["items"] as? [[String: Any]] else {
            throw Terminal.fail("GET /api/v1/strategies: \(described.errorMessage)", code: 2)
        }
        let intervalMs = (body["interval_ms"] as? NSNumber)?.int64Value ?? 1000
        guard let entry = items.first(where: { $0["name"] as? String == strategy }) else {
            throw Terminal.fail("the server has no strategy \(strategy)", code: 1)
        }
        guard entry["enabled"] as? Bool == true else {
            throw Terminal.fail("\(strategy) is disabled on the server (PUT /api/v1/strategies/\(strategy) {\"enabled\":true})", code: 1)
        }
        let name = symbol ?? "TRIG-\(strategy)-\(String(UInt16.random(in: 0x1000...0xFFFF), radix: 16))"

        // Place the sequence so its closing tick is at the latest bar boundary: every tick is in
        // the past (nothing moves the server's market time forward) and the firing bar is closed
        // by the closing tick itself, in the same batch.
        guard let probe = TriggerScenario.make(strategy: strategy, symbol: name, startTs: 0, intervalMs: intervalMs) else {
            throw Terminal.fail("no scenario for \(strategy)", code: 1)
        }
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let boundary = nowMs / intervalMs * intervalMs
        guard let scenario = TriggerScenario.make(strategy: strategy, symbol: name, startTs: max(0, boundary - probe.closing.ts),
                                                  intervalMs: intervalMs) else {
            throw Terminal.fail("no scenario for \(strategy)", code: 1)
        }
        let ticks = scenario.setup + [scenario.closing]
        var ndjson = ""
        for t in ticks {
            var w = JSONWriter(capacity: 128)
            EventEncoder.payload(t, &w)
            ndjson += String(decoding: w.bytes, as: UTF8.self) + "\n"
        }

        let socket: OperatorWebSocket
        do {
            socket = try OperatorWebSocket(endpoint, path: "/ws?channels=signals,opportunities&symbols=\(name)", trust: client.trust,
                                           timeoutMs: client.timeoutMs)
            // hello, then the subscription's acknowledgement: the stream is live from here.
            for _ in 0..<2 { _ = try socket.next() }
        } catch {
            throw Terminal.fail("\(error)", code: 2)
        }
        defer { socket.close() }

        let start = dfl_monotonic_ns()
        let posted: HTTPReply
        do {
            posted = try http.request("POST", "/api/v1/ticks", headers: [("Content-Type", "application/x-ndjson")],
                                      body: Array(ndjson.utf8))
        } catch {
            throw Terminal.fail("\(error)", code: 2)
        }
        let postedNs = dfl_monotonic_ns()
        guard posted.status == 202 else {
            throw Terminal.fail("POST /api/v1/ticks: \(posted.status) \(posted.errorMessage)", code: 1)
        }
        if let accepted = (posted.json as? [String: Any])?["accepted"] as? Int, accepted != ticks.count {
            throw Terminal.fail("the server accepted \(accepted) of \(ticks.count) ticks: \(posted.text.prefix(300))", code: 1)
        }

        var signal: ([String: Any], Int64)?
        var opportunity: ([String: Any], Int64)?
        let deadline = start + Int64(client.timeoutMs) * 1_000_000
        while opportunity == nil {
            guard dfl_monotonic_ns() < deadline else { break }
            let message: OperatorWebSocket.Message
            do { message = try socket.next() } catch { break }
            guard case .text(let text) = message else { break }
            let now = dfl_monotonic_ns()
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let payload = object["payload"] as? [String: Any] else { continue }
            switch object["type"] as? String {
            case "signal" where payload["strategy"] as? String == strategy:
                if signal == nil { signal = (object, now) }
            case "opportunity" where (payload["strategies"] as? [String] ?? []).contains(strategy):
                opportunity = (object, now)
            default: break
            }
        }
        guard let (opp, oppNs) = opportunity else {
            throw Terminal.fail("no opportunity from \(strategy) on \(name) within \(client.timeout) s"
                                + (signal == nil ? " (no signal either: is the strategy configured with non-default settings?)"
                                                 : " (the signal came: is the symbol blocked by the risk guard?)"), code: 1)
        }
        let latencyMs = Double(oppNs - start) / 1e6
        let signalMs = signal.map { Double($0.1 - start) / 1e6 }
        let postMs = Double(postedNs - start) / 1e6
        if json {
            var result: [String: Any] = ["strategy": strategy, "symbol": name, "ticks": ticks.count, "interval_ms": intervalMs,
                                         "latency_ms": latencyMs, "post_ms": postMs, "opportunity": opp]
            if let signalMs { result["signal_latency_ms"] = signalMs }
            if let signal { result["signal"] = signal.0 }
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("trigger \(Terminal.bold(strategy)) on \(name): \(ticks.count) ticks over \(ticks.count > 0 ? "\(Int((scenario.closing.ts - scenario.setup[0].ts) / intervalMs) + 1)" : "0") bars of \(intervalMs) ms (expected \(scenario.expectedDirection.rawValue))")
        if let signal { print("  " + EventLine.render(signal.0)) }
        print("  " + EventLine.render(opp))
        print("  latency: \(Terminal.bold(String(format: "%.2f ms", latencyMs))) from sending the ticks to the opportunity on the WebSocket"
              + (signalMs.map { String(format: " (signal %.2f ms; the POST was answered in %.2f ms)", $0, postMs) } ?? ""))
    }
}
