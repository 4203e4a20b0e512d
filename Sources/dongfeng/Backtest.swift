import ArgumentParser
import Contracts
import Foundation
import Pipeline
import Research

struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Test strategies on recorded ticks or OHLCV bars: trades, metrics and a signal scorecard.",
        discussion: """
            The bars, indicators and strategies are the live server's. A signal on a bar's close fills \
            at the next bar's open; a position closes on the opposite signal, the strategy's exit rule \
            (exit_when, hold_bars, stop_pct, take_pct) or the end of the data. A table goes to standard \
            output; --json and --html write the full results (docs/RESEARCH.md). Exit 2 on bad \
            options or an unreadable input; bad rows are reported on stderr and skipped.
            """
    )

    @OptionGroup var options: ResearchOptions
    @Option(help: "Comma-separated strategies of the file to test, enabled or not (default: every enabled one).")
    var strategies: String?
    @Option(help: "Scorecard horizons in bars, comma-separated.")
    var horizons = "1,5,20"
    @Option(name: .customLong("periods-per-year"), help: "Bars a year for annualised figures (default: each symbol's bars over the years it spans).")
    var periodsPerYear: Double?
    @Option(help: "Write the full results as JSON to this file.")
    var json: String?
    @Option(help: "Write a self-contained HTML report to this file.")
    var html: String?

    func run() throws {
        ResearchInput.keepFreedMemory()
        let settings = try makeSettings()
        let registry = try selectedStrategies()
        let started = Date()
        let loaded = try options.load(command: "backtest")
        let recorder: BacktestRecorder
        var phases = ""
        switch loaded.data {
        case .bars(let bars):
            let read = Date()
            recorder = Backtest.record(bars: bars, registry: registry, interval: loaded.interval)
            let ran = Date()
            // OHLCV input: what reading the file and running the engine each took.
            phases = String(format: " (read %.3f s, engine %.3f s = %.0f bars/s", read.timeIntervalSince(started),
                            ran.timeIntervalSince(read), Double(bars.count) / max(ran.timeIntervalSince(read), 1e-9))
        case .ticks(let file):
            recorder = BacktestRecorder(registry: registry)
            let engine = SignalEngine(settings: Backtest.researchSettings(loaded.interval, markets: loaded.markets),
                                      strategies: registry, sink: recorder)
            loaded.rejected += ResearchInput.feedTicks(file) { engine.process($0) }
            engine.finish()
        }
        let evaluating = Date()
        let result = Backtest.evaluate(recorder, intervalMs: loaded.interval.milliseconds, settings: settings)
        let seconds = Date().timeIntervalSince(started)
        if !phases.isEmpty { phases += String(format: ", trades and scores %.3f s)", Date().timeIntervalSince(evaluating)) }
        guard result.bars.contains(where: { !$0.isEmpty }) else { fail("\(options.input): no bars to test") }
        if let json {
            let bytes = BacktestJSON.encode(result, input: loaded.description)
            guard FileManager.default.createFile(atPath: json, contents: Data(bytes)) else { fail("--json: cannot write \(json)") }
        }
        if let html {
            let page = BacktestHTML.render(result, title: URL(fileURLWithPath: options.input).lastPathComponent)
            guard FileManager.default.createFile(atPath: html, contents: Data(page.utf8)) else { fail("--html: cannot write \(html)") }
        }
        print(BacktestTable.render(result), terminator: "")
        let barCount = result.bars.reduce(0) { $0 + $1.count }
        FileHandle.standardError.write(Data("""
            backtest: \(barCount) bars of \(result.symbols.count) symbols (\(loaded.rejected) rows rejected), \
            \(result.strategies.count) strategies, \(result.signals.count) signals, \(result.trades.count) trades in \
            \(String(format: "%.3f", seconds)) s\(phases)

            """.utf8))
    }

    private func makeSettings() throws -> BacktestSettings {
        var s = BacktestSettings()
        let hs = horizons.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !hs.isEmpty, hs.allSatisfy({ $0 != nil && $0! >= 1 && $0! <= 10_000 }) else {
            fail("--horizons \(horizons.debugDescription): give whole numbers of bars 1…10000, comma-separated")
        }
        s.horizons = Array(Set(hs.map { $0! })).sorted()
        do {
            s.trade = try options.trade()
        } catch {
            fail(error.message)
        }
        if let periodsPerYear {
            guard periodsPerYear.isFinite, periodsPerYear > 0 else { fail("--periods-per-year must be a positive number") }
            s.periodsPerYear = periodsPerYear
        }
        return s
    }

    private func selectedStrategies() throws -> StrategyRegistry {
        do {
            return try ResearchInput.strategies(file: options.strategiesFile, names: strategies)
        } catch {
            fail(error.message)
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("dongfeng backtest: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
