import ArgumentParser
import CLinux
import Contracts
import Foundation
import Operator
import Pipeline

/// `dongfeng trigger`: sends ticks that make one strategy — a built-in or a rule — fire on a
/// fresh symbol, waits for the signal and the opportunity on the WebSocket, and prints them with
/// the latency measured from sending the ticks (the seed's test_trigger_strategy).
///
/// The ticks come from `TriggerSearch`, run here against the server's own strategies (rebuilt
/// from `GET /api/v1/strategies`, every one with the server's parameters) and bar interval, so
/// what fires in the search fires on the server: a built-in's hand-made path when it still suits
/// the server's parameters, else a path searched for within a CPU bound.
struct Trigger: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a strategy (built-in or rule) fire on a fresh symbol and print the opportunity with its latency.",
        discussion: "Any enabled strategy GET /api/v1/strategies lists. The ticks are searched for against the server's strategies and bar interval (at most --budget seconds of CPU; a rule that cannot be met is explained part by part), then go to POST /api/v1/ticks (pass --api-key when the server needs one); the result is read from the WebSocket.")

    @OptionGroup var client: ClientOptions
    @Option(help: "The strategy to fire: a built-in or a rule the server runs.")
    var strategy: String
    @Option(help: "Symbol to use (default: a fresh TRIG-… symbol, so no earlier history interferes).")
    var symbol: String?
    @Option(help: "Seconds of CPU the search for a tick path may take.")
    var budget: Double = 3
    @Option(help: "Seed of the search (the same seed and strategies give the same ticks).")
    var seed: UInt64 = 1
    @Flag(help: "Print one JSON object with the result.")
    var json = false

    func validate() throws {
        if let symbol, let problem = Tick.symbolProblem(symbol) { throw ValidationError("--symbol \(problem)") }
        guard budget > 0, budget <= 60 else { throw ValidationError("--budget must be between 0 and 60 seconds") }
    }

    func run() throws {
        let http = try client.http()
        let endpoint = try client.endpoint()
        // The server's strategies and interval (this also opens the connection the ticks go over,
        // so the measured time holds no TLS handshake).
        let described: HTTPReply
        do { described = try http.get("/api/v1/strategies") } catch { throw Terminal.fail("\(error)", code: 2) }
        guard described.status == 200, let body = described.json as? [String: Any],
              let items = body["items"] as? [[String: Any]] else {
            throw Terminal.fail("GET /api/v1/strategies: \(described.errorMessage)", code: 2)
        }
        let intervalMs = (body["interval_ms"] as? NSNumber)?.int64Value ?? 1000
        guard let entry = items.first(where: { $0["name"] as? String == strategy }) else {
            let names = items.compactMap { $0["name"] as? String }
            throw Terminal.fail("the server has no strategy \(strategy) (it runs \(names.joined(separator: ", ")))", code: 1)
        }
        guard entry["enabled"] as? Bool == true else {
            throw Terminal.fail("\(strategy) is disabled on the server (PUT /api/v1/strategies/\(strategy) {\"enabled\":true})", code: 1)
        }
        let registry = try Self.registry(items)
        guard let interval = (body["interval"] as? String).flatMap(BarInterval.init).flatMap({ $0.milliseconds == intervalMs ? $0 : nil })
                ?? BarInterval("\(intervalMs)ms") else {
            throw Terminal.fail("GET /api/v1/strategies: no usable bar interval (\(intervalMs) ms)", code: 2)
        }
        // A rule's name may hold any letter; a symbol only ASCII ones, 32 at most.
        let label = strategy.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }.prefix(Tick.maxSymbolLength - 10)
        let name = symbol ?? "TRIG-\(label)-\(String(UInt16.random(in: 0x1000...0xFFFF), radix: 16))"

        let search: TriggerSearch.Found
        switch TriggerSearch.find(strategy: strategy, symbol: name, registry: registry, interval: interval,
                                  limits: TriggerSearch.Limits(cpuSeconds: budget, seed: seed)) {
        case .success(let found): search = found
        case .failure(let failure): throw Terminal.fail(failure.message, code: 1)
        }
        // Place the ticks so the closing one is at the latest bar boundary: every tick is in the
        // past (nothing moves the server's market time forward) and the firing bar is closed by
        // the closing tick itself, in the same batch.
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        guard let scenario = search.scenario.placed(closingAt: nowMs / intervalMs * intervalMs) else {
            throw Terminal.fail("\(search.scenario.setup.count + 1) ticks of \(intervalMs) ms bars do not fit before now", code: 1)
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

        let expectedId = "\(name)-\(scenario.expectedDirection.rawValue)-\(scenario.closing.ts)"
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
            // The signal of the closing tick's bar, and the opportunity it opens (its id is
            // symbol-direction-ts).
            switch object["type"] as? String {
            case "signal" where payload["strategy"] as? String == strategy && (payload["ts"] as? NSNumber)?.int64Value == scenario.closing.ts:
                if signal == nil { signal = (object, now) }
            case "opportunity" where payload["id"] as? String == expectedId:
                opportunity = (object, now)
            default: break
            }
        }
        guard let (opp, oppNs) = opportunity else {
            throw Terminal.fail("no opportunity \(expectedId) from \(strategy) within \(client.timeout) s"
                                + (signal == nil ? " (no signal either: did the server's strategies change after they were read?)"
                                                 : " (the signal came: is the symbol blocked by the risk guard?)"), code: 1)
        }
        let latencyMs = Double(oppNs - start) / 1e6
        let signalMs = signal.map { Double($0.1 - start) / 1e6 }
        let postMs = Double(postedNs - start) / 1e6
        if json {
            var result: [String: Any] = ["strategy": strategy, "symbol": name, "ticks": ticks.count, "interval_ms": intervalMs,
                                         "latency_ms": latencyMs, "post_ms": postMs, "opportunity": opp,
                                         "search": ["hand_made": search.handMade, "candidates": search.candidates,
                                                    "cpu_ms": search.cpuSeconds * 1000, "seed": seed]]
            if let signalMs { result["signal_latency_ms"] = signalMs }
            if let signal { result["signal"] = signal.0 }
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let bars = Int((scenario.closing.ts - (scenario.setup.first?.ts ?? scenario.closing.ts)) / intervalMs) + 1
        print("trigger \(Terminal.bold(strategy)) on \(name): \(ticks.count) ticks over \(bars) bars of \(intervalMs) ms (expected \(scenario.expectedDirection.rawValue))")
        print("  path: " + (search.handMade ? "hand-made" : "searched")
              + String(format: ", %d candidate%@ in %.0f ms of CPU (seed %llu)", search.candidates, search.candidates == 1 ? "" : "s",
                       search.cpuSeconds * 1000, seed))
        if let signal { print("  " + EventLine.render(signal.0)) }
        print("  " + EventLine.render(opp))
        print("  latency: \(Terminal.bold(String(format: "%.2f ms", latencyMs))) from sending the ticks to the opportunity on the WebSocket"
              + (signalMs.map { String(format: " (signal %.2f ms; the POST was answered in %.2f ms)", $0, postMs) } ?? ""))
    }

    /// The server's strategies as a registry: the listed items written back in the strategies
    /// file's shape (a built-in's settings are all its parameters, a rule's its when, direction and
    /// strength) and parsed as the server parsed its file, so the order and the values are the server's.
    static func registry(_ items: [[String: Any]]) throws -> StrategyRegistry {
        var builtins: [String: Any] = [:]
        var rules: [[String: Any]] = []
        for item in items {
            guard let name = item["name"] as? String else { continue }
            var settings = item["settings"] as? [String: Any] ?? [:]
            settings["enabled"] = item["enabled"] as? Bool ?? true
            if item["kind"] as? String == "rule" {
                settings["name"] = name
                rules.append(settings)
            } else {
                builtins[name] = settings
            }
        }
        do {
            let file = try JSONSerialization.data(withJSONObject: ["strategies": builtins, "rules": rules])
            return try StrategyRegistry.parse(file)
        } catch {
            throw Terminal.fail("the server's strategies (GET /api/v1/strategies) cannot be rebuilt here: \(error)", code: 2)
        }
    }
}
