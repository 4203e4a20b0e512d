import Contracts
import Feeds
import Foundation
import Logging
import Pipeline
import Store

/// The signal pipeline as the server runs it: the query store, the worker thread, and the
/// configured feed. Built from config at start; stopped after the reactor loops.
public final class SignalService: @unchecked Sendable {
    public let store: EventStore
    public let worker: PipelineWorker
    public let feedName: String
    public let strategiesFile: String
    /// One ingest ring per reactor loop (REST and WebSocket ingest), `.reject` when full.
    public private(set) var ingest: [TickInput] = []
    private(set) var feed: SimulatorFeed?
    /// The event journal (nil when `journal.enabled` is false).
    public let journal: Journal?
    /// "warm" or "cold", and why: how the indicators started (`/admin/health`).
    public private(set) var startMode = ("cold", "")
    private let dataDir: String
    private let intervalLabel: String
    /// The primary bar interval: strategies run on each closed bar of it.
    public let interval: BarInterval

    public init(config: GatewayConfig, logger: Logger) throws(GatewayError) {
        guard let interval = BarInterval(config.pipeline.interval) else {
            throw GatewayError("pipeline.interval \(config.pipeline.interval) is not an interval")
        }
        let strategies = try Self.loadStrategies(config.pipeline.strategiesFile, logger: logger)
        store = EventStore(capacity: config.pipeline.historyEvents)
        var settings = EngineSettings(interval: interval)
        settings.aggregator = AggregatorSettings(ttlMs: Int64(config.pipeline.opportunityTTLSeconds * 1000),
                                                 cooldownMs: Int64(config.pipeline.cooldownSeconds * 1000))
        journal = try Self.openJournal(config, tail: 3 * config.pipeline.historyEvents, logger: logger)
        let tickJournal = config.journal.enabled && config.journal.ticks
            ? try Self.openJournal(config, tail: Self.rebuildTicks, logger: logger, subdirectory: "ticks") : nil
        var lastSeq: UInt64 = 0
        if let journal {
            // Restore the query store and the resume history from the newest records, and
            // continue the seq after the last one journaled: a seq is never reused.
            var undecodable = 0
            for record in journal.recoveredTail {
                if let event = JournalEvents.decode(record.payload) { store.record(event) } else { undecodable += 1 }
            }
            lastSeq = journal.lastSeq
            logger.info("\(journal.recoveryReport)\(undecodable > 0 ? "; \(undecodable) record(s) not understood" : "")")
        }
        worker = PipelineWorker(settings: settings, strategies: strategies, store: store,
                                barGraceMs: Int64(config.pipeline.barGraceMs), lastSeq: lastSeq)
        if let journal { worker.journal = JournalWriter(journal: journal, ticks: tickJournal) }
        dataDir = config.dataDir
        intervalLabel = interval.description
        self.interval = interval
        switch Snapshot.read(from: config.dataDir, interval: interval.description) {
        case .bars(let bars, let aggregator):
            worker.warm(with: bars)
            if let aggregator { worker.aggregatorState = aggregator }
            let symbols = Set(bars.map(\.symbol)).count
            startMode = ("warm", "\(bars.count) bars of \(symbols) symbols from the snapshot")
            // A snapshot is good for the restart right after the shutdown that wrote it only.
            try? FileManager.default.removeItem(atPath: (config.dataDir as NSString).appendingPathComponent(Snapshot.fileName))
            logger.info("warm start: indicators restored from \(bars.count) bars of \(symbols) symbols")
        case .cold(let reason):
            let ticks = tickJournal?.recoveredTail.compactMap { record -> Tick? in
                if case .tick(let t)? = JournalEvents.decode(record.payload) { t } else { nil }
            } ?? []
            if ticks.isEmpty {
                startMode = ("cold", reason)
                logger.notice("cold start (\(reason); no journaled ticks\(tickJournal == nil ? ": journal.ticks is off" : "")): indicators warm up from new bars")
            } else {
                let bars = Self.bars(from: ticks, interval: interval)
                worker.warm(with: bars)
                startMode = ("warm", "rebuilt from \(ticks.count) journaled ticks (\(bars.count) bars); \(reason)")
                logger.info("warm start: indicators rebuilt from \(ticks.count) journaled ticks (\(bars.count) bars)")
            }
        }
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

    /// Ticks kept for a rebuild: enough for the longest indicator window at busy rates.
    static let rebuildTicks = 200_000

    /// Closed bars of journaled ticks, per symbol in time order (the last, open bar is closed too).
    static func bars(from ticks: [Tick], interval: BarInterval) -> [Bar] {
        var builders: [String: BarBuilder] = [:]
        var bars: [Bar] = []
        for tick in ticks {
            var builder = builders[tick.symbol] ?? BarBuilder(symbol: tick.symbol, interval: interval)
            if let bar = builder.add(tick) { bars.append(bar) }
            builders[tick.symbol] = builder
        }
        for symbol in builders.keys.sorted() { if var b = builders[symbol], let bar = b.flush() { bars.append(bar) } }
        return bars
    }

    static func openJournal(_ config: GatewayConfig, tail: Int, logger: Logger,
                            subdirectory: String = "journal") throws(GatewayError) -> Journal? {
        guard config.journal.enabled else {
            logger.notice("journal disabled (journal.enabled = false): seq restarts at 0 and history is lost on restart")
            return nil
        }
        var settings = JournalSettings(directory: (config.dataDir as NSString).appendingPathComponent(subdirectory))
        settings.fsync = FsyncPolicy(rawValue: config.journal.fsync) ?? .interval
        settings.fsyncIntervalMs = config.journal.fsyncIntervalMs
        settings.segmentBytes = config.journal.segmentMB << 20
        settings.retentionBytes = Int64(config.journal.retentionMB) << 20
        settings.retentionSeconds = Int64(config.journal.retentionHours) * 3600
        do {
            return try Journal(settings: settings, tailLimit: tail)
        } catch {
            throw GatewayError("cannot open the journal in \(settings.directory): \(error)")
        }
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
        journal?.close()
        (worker.journal as? JournalWriter)?.ticks?.close()
        // Warm-restart snapshot: each symbol's recent bars, as the store holds them.
        var bars: [Bar] = []
        for symbol in store.symbols { bars += store.bars(symbol, limit: store.perSymbolHistory) }
        if !bars.isEmpty {
            try? Snapshot.write(bars: bars, interval: intervalLabel, aggregator: worker.aggregatorState, to: dataDir)
        }
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
        w.string("start", startMode.0)
        w.string("start_reason", startMode.1)
        w.endObject()
        guard let journal else { return }
        let j = journal.stats
        w.beginObject("journal")
        w.string("directory", journal.settings.directory)
        w.string("fsync", journal.settings.fsync.rawValue)
        w.uint64("last_seq", j.lastSeq.load(ordering: .relaxed))
        w.int("records", j.records.load(ordering: .relaxed))
        w.int("bytes", j.bytes.load(ordering: .relaxed))
        w.int("fsyncs", j.fsyncs.load(ordering: .relaxed))
        w.int("segments", j.segments.load(ordering: .relaxed))
        w.int("truncated_bytes", j.truncatedBytes.load(ordering: .relaxed))
        w.int("corrupt_records", j.corruptRecords.load(ordering: .relaxed))
        w.int("write_errors", j.writeErrors.load(ordering: .relaxed))
        w.endObject()
    }
}
