import ArgumentParser
import Contracts
import Foundation
import Pipeline

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run recorded ticks through the signal engine and write its events as NDJSON.",
        discussion: """
            The same engine as the live server, in market time only: the same input gives \
            byte-identical output. Bars and features are written as {"type","payload"}, signals, \
            opportunities and alerts as {"type","seq","payload"}. A summary goes to stderr; bad rows \
            are reported there and skipped. Exit 0 unless no tick could be read.
            """
    )

    @Option(help: "Ticks: .csv (header row naming ts,symbol,price,volume[,bid,ask]), .ndjson/.jsonl, or .json (array).")
    var input: String
    @Option(help: "Bar interval: e.g. 1s, 5s, 1m, 15m, 1h.")
    var interval = "1m"
    @Option(help: "Strategies file (default Config/strategies.json when present, else built-in defaults).")
    var config: String?
    @Option(help: "Events to write, comma-separated channels: ticks,bars,features,signals,opportunities,risk_alerts.")
    var emit = "bars,features,signals,opportunities,risk_alerts"
    @Option(help: "Output file (default standard output).")
    var output: String?
    @Option(name: .customLong("indicator"),
            help: ArgumentHelp("A parameterised indicator to write for every closed bar, as a rule calls it: sma(close,10), macd_signal(close,12,26,9), stoch_k(14,3,3)… Repeat for more.",
                               valueName: "call"))
    var indicators: [String] = []
    @OptionGroup var markets: MarketsOption
    @Flag(help: "Keep the parsed ticks in INPUT.dfcache and read them from there while the file is unchanged.")
    var cache = false

    func run() throws {
        guard let barInterval = BarInterval(interval) else { fail("--interval \(interval.debugDescription) is not an interval like 1s, 1m, 1h") }
        var wanted: Set<Channel> = []
        for name in emit.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            // "alerts" is the name this option took before it used the stream's channel names.
            guard let channel = Channel(rawValue: name == "alerts" ? "risk_alerts" : name) else {
                fail("--emit: unknown channel \(name) (use \(Channel.names))")
            }
            wanted.insert(channel)
        }
        guard let format = TickFormat(fileName: input) else { fail("--input: use a .csv, .ndjson, .jsonl or .json file") }
        let registry = loadStrategies()
        guard let file = TickFile(path: input, format: format, cache: cache) else { fail("--input: cannot open \(input)") }
        let out: UnsafeMutablePointer<FILE>
        if let output {
            guard let file = fopen(output, "w") else { fail("--output: cannot write \(output)") }
            out = file
        } else {
            out = fdopen(1, "w")  // standard output; `stdout` is a C global Swift 6 will not touch
        }
        var plan = IndicatorPlan()
        for text in indicators {
            do {
                _ = plan.slot(for: try IndicatorCall(text: text.filter { !$0.isWhitespace }))
            } catch {
                fail("--indicator \(text): \(error.message)")
            }
        }
        let sink = NDJSONSink(file: out, channels: wanted, indicators: plan)
        var settings = EngineSettings(interval: barInterval)
        settings.markets = markets.directory(command: "replay")
        let engine = SignalEngine(settings: settings, strategies: registry, sink: sink)
        let started = Date()
        let rejected = ResearchInput.feedTicks(file) { engine.process($0) }
        engine.finish()
        sink.flush()
        if output != nil { fclose(out) }
        let seconds = Date().timeIntervalSince(started)
        let c = engine.counters
        let rate = seconds > 0 ? Int(Double(c.ticks) / seconds) : 0
        FileHandle.standardError.write(Data("""
            replay: \(c.ticks) ticks (\(rejected) rejected, \(c.outOfOrder) out of order), \(c.bars) bars, \
            \(c.signals) signals, \(c.opportunities) opportunities, \(c.alerts) alerts in \
            \(String(format: "%.3f", seconds)) s (\(rate) ticks/s)

            """.utf8))
        if c.ticks == 0 { throw ExitCode(1) }
    }

    private func loadStrategies() -> StrategyRegistry {
        let path = config ?? (FileManager.default.fileExists(atPath: "Config/strategies.json") ? "Config/strategies.json" : nil)
        guard let path else { return StrategyRegistry.defaults }
        guard let data = FileManager.default.contents(atPath: path) else { fail("--config: cannot read \(path)") }
        do {
            return try StrategyRegistry.parse(data)
        } catch {
            fail("\(path): \(error)")
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("dongfeng replay: \(message)\n".utf8))
        Foundation.exit(2)
    }
}

/// Writes engine events as NDJSON through one reused buffer.
final class NDJSONSink: EngineSink {
    private let file: UnsafeMutablePointer<FILE>
    /// Which channels were asked for, one flag each (asked per engine callback: no hashing).
    private let ticks, bars, features, signals, opportunities, alerts: Bool
    private var writer = JSONWriter(capacity: 1 << 16)
    private var pending = 0

    /// `--indicator` calls, computed on every closed bar of each symbol.
    private let plan: IndicatorPlan
    private var banks: [String: IndicatorBank] = [:]

    init(file: UnsafeMutablePointer<FILE>, channels: Set<Channel>, indicators: IndicatorPlan = IndicatorPlan()) {
        self.file = file
        plan = indicators
        ticks = channels.contains(.ticks)
        bars = channels.contains(.bars)
        features = channels.contains(.features)
        signals = channels.contains(.signals)
        opportunities = channels.contains(.opportunities)
        alerts = channels.contains(.riskAlerts)
    }

    /// One event as a line (callers check its channel was asked for first: most are not).
    private func line(_ event: PipelineEvent) {
        event.envelope(&writer)
        writer.appendNewline()
        pending += 1
        if writer.bytes.count > 1 << 16 { flush() }
    }

    func flush() {
        writer.bytes.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, file) }
        writer.reset()
        fflush(file)
    }

    var takesTicks: Bool { ticks }
    func engine(tick: Tick) { if ticks { line(.tick(tick)) } }
    func engine(bar: Bar) {
        if bars { line(.bar(bar)) }
        guard !plan.slots.isEmpty else { return }
        let bank = banks[bar.symbol] ?? {
            let bank = IndicatorBank(plan: plan)
            banks[bar.symbol] = bank
            return bank
        }()
        bank.update(bar)
        let values = bank.values
        writer.beginObject()
        writer.string("type", "indicators")
        writer.beginObject("payload")
        writer.string("symbol", bar.symbol)
        writer.string("interval", bar.interval)
        writer.int64("ts", bar.start)
        writer.beginObject("values")
        for (slot, call) in plan.slots.enumerated() { writer.optionalDouble(call.description, values[slot]) }
        writer.endObject()
        writer.endObject()
        writer.endObject()
        writer.appendNewline()
        pending += 1
        if writer.bytes.count > 1 << 16 { flush() }
    }
    func engine(features: Features) { if self.features { line(.features(features)) } }
    func engine(signal: StrategySignal) { if signals { line(.signal(signal)) } }
    func engine(opportunity: Opportunity) { if opportunities { line(.opportunity(opportunity)) } }
    func engine(alert: RiskAlert) { if alerts { line(.alert(alert)) } }
}
