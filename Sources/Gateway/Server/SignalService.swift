import Contracts
import Feeds
import Foundation
import Logging
import Pipeline

/// The signal pipeline as the server runs it: the query store, the worker thread, and the
/// configured feed. Built from config at start; stopped after the reactor loops.
public final class SignalService: @unchecked Sendable {
    public let store = EventStore()
    public let worker: PipelineWorker
    public let feedName: String
    public let strategiesFile: String
    /// One ingest ring per reactor loop (REST and WebSocket ingest), `.reject` when full.
    public private(set) var ingest: [TickInput] = []
    private var feed: SimulatorFeed?

    public init(config: GatewayConfig, logger: Logger) throws(GatewayError) {
        guard let interval = BarInterval(config.pipeline.interval) else {
            throw GatewayError("pipeline.interval \(config.pipeline.interval) is not an interval")
        }
        let strategies = try Self.loadStrategies(config.pipeline.strategiesFile, logger: logger)
        var settings = EngineSettings(interval: interval)
        settings.aggregator = AggregatorSettings(ttlMs: Int64(config.pipeline.opportunityTTLSeconds * 1000),
                                                 cooldownMs: Int64(config.pipeline.cooldownSeconds * 1000))
        worker = PipelineWorker(settings: settings, strategies: strategies, store: store,
                                barGraceMs: Int64(config.pipeline.barGraceMs))
        feedName = config.feed
        strategiesFile = config.pipeline.strategiesFile
        for loop in 0..<config.server.loops {
            ingest.append(worker.makeInput(name: "http-\(loop)", capacity: 1 << 15, policy: .reject))
        }
        if config.feed == "simulator" {
            let input = worker.makeInput(name: "simulator", policy: .block)
            feed = SimulatorFeed(input: input, instruments: Self.instruments(config.simulator.symbols),
                                 ticksPerSecond: config.simulator.ticksPerSecond, seed: UInt64(config.simulator.seed))
        }
        logger.info("pipeline: \(interval) bars, \(strategies.enabled.count) strategies enabled, feed \(config.feed)")
    }

    /// "*" → the built-in eight; else the named symbols, with built-in parameters when known.
    static func instruments(_ list: String) -> [MarketSimulator.Instrument] {
        guard list != "*" else { return MarketSimulator.defaultInstruments }
        return list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { symbol in
            MarketSimulator.defaultInstruments.first { $0.symbol == symbol }
                ?? MarketSimulator.Instrument(symbol: symbol, price: 100, volatility: 0.0012, lot: 100)
        }
    }

    /// Reads the strategies file again (POST /admin/reload); errors name the key.
    static func reloadStrategies(_ path: String) throws(GatewayError) -> StrategyRegistry {
        guard let data = FileManager.default.contents(atPath: path) else { throw GatewayError("cannot read \(path)") }
        do {
            return try StrategyRegistry.parse(data)
        } catch {
            throw GatewayError("\(path): \(error)")
        }
    }

    static func loadStrategies(_ path: String, logger: Logger) throws(GatewayError) -> StrategyRegistry {
        guard let data = FileManager.default.contents(atPath: path) else {
            logger.notice("strategies file \(path) not found: using the built-in strategies with their defaults")
            return .defaults
        }
        do {
            return try StrategyRegistry.parse(data)
        } catch {
            throw GatewayError("\(path): \(error)")
        }
    }

    public func start() {
        worker.start()
        feed?.start()
    }

    /// Stops the feed, then the worker (which drains what is queued and closes open bars).
    public func stop() {
        feed?.stop()
        worker.stop()
    }

    /// The pipeline part of `/admin/health`.
    func describe(_ w: inout JSONWriter) {
        let s = worker.stats
        w.beginObject("pipeline")
        w.string("feed", feedName)
        w.int("ticks", s.ticks.load(ordering: .relaxed))
        w.int("out_of_order", s.outOfOrder.load(ordering: .relaxed))
        w.int("bars", s.bars.load(ordering: .relaxed))
        w.int("signals", s.signals.load(ordering: .relaxed))
        w.int("opportunities", s.opportunities.load(ordering: .relaxed))
        w.int("alerts", s.alerts.load(ordering: .relaxed))
        w.uint64("last_seq", s.lastSeq.load(ordering: .relaxed))
        w.endObject()
    }
}
