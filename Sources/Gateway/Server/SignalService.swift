import Contracts
import Feeds
import Foundation
import Logging
import Markets
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
    private(set) var feed: (any LiveFeed)?
    /// The event journal (nil when `journal.enabled` is false).
    public let journal: Journal?
    /// "warm" or "cold", and why: how the indicators started (`/admin/health`).
    public private(set) var startMode = ("cold", "")
    /// Writes the engine checkpoints (nil when the journal is off).
    public let checkpointer: Checkpointer?
    /// Each symbol's last price when the engine was restored: the simulator goes on from there.
    let resumePrices: [String: Double]
    private let logger: Logger
    private let dataDir: String
    /// The primary bar interval: strategies run on each closed bar of it.
    public let interval: BarInterval

    public init(config: GatewayConfig, logger: Logger) throws(GatewayError) {
        guard let interval = BarInterval(config.pipeline.interval) else {
            throw GatewayError("pipeline.interval \(config.pipeline.interval) is not an interval")
        }
        let strategies = try Self.loadStrategies(config.pipeline.strategiesFile, logger: logger)
        var settings = EngineSettings(interval: interval)
        settings.markets = try Self.loadMarkets(config.markets, logger: logger)
        settings.aggregator = AggregatorSettings(ttlMs: Int64(config.pipeline.opportunityTTLSeconds * 1000),
                                                 cooldownMs: Int64(config.pipeline.cooldownSeconds * 1000))
        let horizons = config.pipeline.scoreHorizons.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !horizons.isEmpty, horizons.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 10_000 }),
              zip(horizons, horizons.dropFirst()).allSatisfy({ $0! < $1! }) else {
            throw GatewayError("pipeline.score_horizons \(config.pipeline.scoreHorizons.debugDescription): give bar counts 1…10000, ascending, comma-separated")
        }
        settings.scoring.horizons = horizons.map { $0! }
        settings.scoring.window = config.pipeline.scoreWindow
        settings.scoring.outcomes = config.pipeline.historyEvents
        store = EventStore(capacity: config.pipeline.historyEvents, scoringHorizons: settings.scoring.horizons)
        journal = try Self.openJournal(config, tail: 3 * config.pipeline.historyEvents, logger: logger)
        let inputs = config.journal.enabled && config.journal.inputs
            ? try Self.openJournal(config, tail: 0, logger: logger, subdirectory: "inputs", segmentMB: 8) : nil
        var lastSeq: UInt64 = 0
        if let journal {
            // Restore the query store and the resume history from the newest records, and
            // continue the seq after the last one journaled: a seq is never reused.
            var undecodable = 0
            for record in journal.recoveredTail {
                if let event = EventDecoder.decode(record.payload)?.event { store.record(event) } else { undecodable += 1 }
            }
            lastSeq = journal.lastSeq
            logger.info("\(journal.recoveryReport)\(undecodable > 0 ? "; \(undecodable) record(s) not understood" : "")")
        }
        worker = PipelineWorker(settings: settings, strategies: strategies, store: store,
                                barGraceMs: Int64(config.pipeline.barGraceMs), lastSeq: lastSeq)
        if let journal { worker.journal = JournalWriter(journal: journal, inputs: inputs) }
        dataDir = config.dataDir
        self.interval = interval
        if config.journal.enabled {
            checkpointer = Checkpointer(directory: config.dataDir, sync: config.journal.fsync != "never", store: store, inputs: inputs)
        } else {
            checkpointer = nil
        }
        if let checkpointer {
            let recovered = Self.recover(worker: worker, store: store, settings: settings, dataDir: config.dataDir,
                                         inputs: inputs, lastSeq: lastSeq, logger: logger)
            startMode = recovered.mode
            resumePrices = recovered.prices
            // The feeds were away, not gone: each symbol gets the stale-feed time to come back
            // before its open bar is closed by the clock or it is flagged stale. Journaled.
            worker.resume(wallMs: Int64(Date().timeIntervalSince1970 * 1000), holdMs: settings.risk.staleFeedMs)
            // The recovered state is written at once: a crash before the first periodic checkpoint
            // still restarts exactly, and a crash loop never replays an ever longer input tail.
            do {
                try checkpointer.saveNow(worker.checkpoint())
            } catch {
                logger.error("checkpoint after recovery not written: \(error)")
            }
            worker.closesBarsAtStop = false
            worker.checkpointIntervalMs = Int64(config.journal.checkpointIntervalS * 1000)
            worker.onCheckpoint = { checkpointer.schedule($0) }
            // A checkpoint brings back the strategies in force (live changes included) and the
            // inputs replay under them: a restart keeps them, unless the strategies file changed
            // since it was last loaded — then the file applies (journaled, before the first tick).
            let loadedPath = (config.dataDir as NSString).appendingPathComponent(Self.loadedStrategiesFile)
            let lastLoaded = FileManager.default.contents(atPath: loadedPath).map { [UInt8]($0) }
            if !recovered.fromCheckpoint || lastLoaded != strategies.fileJSON {
                worker.updateStrategies(strategies)
                if recovered.fromCheckpoint { logger.info("strategies file \(config.pipeline.strategiesFile) changed since it was loaded: applied") }
                try? Data(strategies.fileJSON).write(to: URL(fileURLWithPath: loadedPath), options: .atomic)
            } else if worker.strategies.fileJSON != strategies.fileJSON {
                logger.info("strategies as they were running kept (changed live since \(config.pipeline.strategiesFile) was loaded; POST /admin/reload applies the file)")
            }
        } else {
            startMode = ("cold", "the journal is off (journal.enabled = false): nothing is kept across restarts")
            resumePrices = [:]
        }
        self.logger = logger
        feedName = config.feed
        strategiesFile = config.pipeline.strategiesFile
        for loop in 0..<config.server.loops {
            ingest.append(worker.makeInput(name: "http-\(loop)", capacity: 1 << 15, policy: .reject))
        }
        if config.feed == "simulator" {
            let input = worker.makeInput(name: "simulator", policy: .block)
            feed = SimulatorFeed(input: input, instruments: Self.instruments(config.simulator.symbols, from: resumePrices,
                                                                             otherMarkets: settings.markets.enabled),
                                 ticksPerSecond: config.simulator.ticksPerSecond, seed: UInt64(config.simulator.seed),
                                 markets: settings.markets, clock: worker.clock, speed: config.simulator.speed,
                                 resumeAfter: worker.marketTime)
        } else if config.feed.hasPrefix("replay:") {
            let path = String(config.feed.dropFirst("replay:".count))
            if let problem = ReplayFeed.problem(path: path) { throw GatewayError("feed \(config.feed): \(problem)") }
            let input = worker.makeInput(name: "replay", policy: .block)
            // After a restart (or a warm-up from journaled inputs) the file goes on after the last
            // tick the engine saw: nothing is played twice, nothing refused as out of order.
            let resumeAfter = worker.marketTime
            feed = ReplayFeed(path: path, input: input, clock: worker.clock, speed: Double(config.replay.speed), loop: config.replay.loop,
                              markets: settings.markets, interval: interval, staleFeedMs: settings.risk.staleFeedMs,
                              resumeAfter: resumeAfter)
        }
        logger.info("pipeline: \(interval) bars, \(strategies.enabled.count) strategies enabled, feed \(config.feed)")
    }

    /// Crash or clean restart alike: the newest checkpoint, then the engine inputs journaled after
    /// it, fed again in order. With both, the engine is exactly where it was when the process
    /// ended; events those inputs made that never reached the journal are journaled now. Without
    /// a usable checkpoint, whatever inputs the journal holds only warm the indicators.
    static func recover(worker: PipelineWorker, store: EventStore, settings: EngineSettings, dataDir: String,
                        inputs: Journal?, lastSeq: UInt64, logger: Logger)
        -> (mode: (String, String), prices: [String: Double], fromCheckpoint: Bool) {
        let started = DispatchTime.now().uptimeNanoseconds
        var checkpoint: CheckpointFile.Loaded?
        var why = ""
        switch CheckpointFile.read(from: dataDir, settings: settings) {
        case .loaded(let loaded): checkpoint = loaded
        case .missing(let reason): why = reason
        case .unusable(let reason):
            why = reason
            logger.warning("checkpoint not used: \(reason)")
        }
        let after = checkpoint?.engine.inputSeq ?? 0
        // Exact only when the inputs go on right after the checkpoint (none lost in between).
        let (replay, contiguous, unreadable) = inputs.map { JournalWriter.inputs(in: $0, after: after) } ?? ([], false, 0)
        (worker.journal as? JournalWriter)?.continueInputs(after: after)
        let ms = { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6 }
        if let checkpoint {
            for bar in checkpoint.bars { store.record(.bar(bar)) }
            for f in checkpoint.features { store.record(.features(f)) }
            let (made, reached) = worker.recover(from: checkpoint.engine, inputs: replay, journaledThrough: lastSeq)
            let age = max(0, Int64(Date().timeIntervalSince1970 * 1000) - checkpoint.takenMs)
            // The journal holding events past what the replay made again means inputs were lost
            // (journal.inputs off, or a machine crash that kept the events but not their inputs).
            let behind = reached < lastSeq
            let exact = contiguous && unreadable == 0 && !behind
            var notExact: [String] = []
            if inputs == nil { notExact.append("journal.inputs is off") } else if !contiguous { notExact.append("inputs after \(after) partly missing") }
            if unreadable > 0 { notExact.append("\(unreadable) input records unreadable") }
            if behind { notExact.append("the journal holds events up to seq \(lastSeq), the replay reached \(reached)") }
            let detail = "checkpoint of \(checkpoint.engine.symbolNames.count) symbols taken \(age / 1000) s ago + "
                + "\(replay.count) journaled inputs replayed\(made > 0 ? ", \(made) events journaled that had not been" : "")"
                + (exact ? "" : " (not exact: \(notExact.joined(separator: "; ")))")
                + String(format: " in %.0f ms", ms())
            logger.info("warm start: \(detail); \(checkpoint.engine.blockedSymbols.count) symbol(s) blocked, \(checkpoint.engine.openOpportunities.count) open opportunities")
            return (("warm", detail), worker.checkpoint().lastPrices, true)
        }
        if !replay.isEmpty {
            worker.recover(from: nil, inputs: replay, journaledThrough: lastSeq, publishNew: false)
            let detail = "\(why); \(replay.count) journaled inputs warmed the indicators" + String(format: " in %.0f ms", ms())
            logger.notice("warm start without a checkpoint: \(detail)")
            return (("warm", detail), worker.checkpoint().lastPrices, false)
        }
        let reason = "\(why); no journaled inputs\(inputs == nil ? " (journal.inputs is off)" : "")"
        logger.notice("cold start (\(reason)): indicators warm up from new bars")
        return (("cold", reason), [:], false)
    }

    /// The strategies file's registry as last loaded, in `data_dir` (see the start in `init`).
    static let loadedStrategiesFile = "strategies.loaded.json"

    /// `POST /admin/reload` applied the file: remembered, off the loop, for the next start.
    func noteLoadedFromFile(_ registry: StrategyRegistry) {
        guard checkpointer != nil else { return }
        let path = (dataDir as NSString).appendingPathComponent(Self.loadedStrategiesFile)
        let bytes = registry.fileJSON
        DispatchQueue.global(qos: .utility).async { try? Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) }
    }

    static func openJournal(_ config: GatewayConfig, tail: Int, logger: Logger, subdirectory: String = "journal",
                            segmentMB: Int? = nil) throws(GatewayError) -> Journal? {
        guard config.journal.enabled else {
            logger.notice("journal disabled (journal.enabled = false): seq restarts at 0 and history is lost on restart")
            return nil
        }
        var settings = JournalSettings(directory: (config.dataDir as NSString).appendingPathComponent(subdirectory))
        settings.fsync = FsyncPolicy(rawValue: config.journal.fsync) ?? .interval
        settings.fsyncIntervalMs = config.journal.fsyncIntervalMs
        settings.segmentBytes = min(config.journal.segmentMB, segmentMB ?? .max) << 20
        settings.retentionBytes = Int64(config.journal.retentionMB) << 20
        settings.retentionSeconds = Int64(config.journal.retentionHours) * 3600
        if subdirectory == "inputs" {
            // Only a checkpoint may drop inputs (the ones it covers): no size or age limit here.
            settings.retentionBytes = .max
            settings.retentionSeconds = 0
        }
        do {
            return try Journal(settings: settings, tailLimit: tail)
        } catch {
            throw GatewayError("cannot open the journal in \(settings.directory): \(error)")
        }
    }

    /// "*" → the built-in eight A-shares (with venue clocks on, the Hong Kong, US and crypto ones
    /// too); else the named symbols, with built-in parameters when known. A symbol the restored
    /// engine knows starts at its last price (a restart is no price jump).
    static func instruments(_ list: String, from prices: [String: Double] = [:], otherMarkets: Bool = false) -> [MarketSimulator.Instrument] {
        let known = MarketSimulator.defaultInstruments + MarketSimulator.otherMarkets
        let chosen = list == "*" ? MarketSimulator.defaultInstruments + (otherMarkets ? MarketSimulator.otherMarkets : [])
            : list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { symbol in
                known.first { $0.symbol == symbol }
                    ?? MarketSimulator.Instrument(symbol: symbol, price: 100, volatility: 0.30, lot: 100)
            }
        return chosen.map { i in
            guard let price = prices[i.symbol], price > 0, price.isFinite else { return i }
            return MarketSimulator.Instrument(symbol: i.symbol, price: price, volatility: i.volatility, lot: i.lot)
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

    /// The venues symbols trade on (off unless `markets.enabled`): the built-ins, with the
    /// markets file over them when it exists. A bad file refuses the start, naming the key.
    static func loadMarkets(_ config: GatewayConfig.Markets, logger: Logger) throws(GatewayError) -> MarketDirectory {
        guard config.enabled else { return .off }
        do {
            guard let path = config.file, let data = FileManager.default.contents(atPath: path) else {
                if let path = config.file { logger.notice("markets file \(path) not found: using the built-in venues") }
                return try MarketDirectory.builtin(zones: .system)
            }
            return try MarketDirectory.load(json: data, zones: .system)
        } catch {
            throw GatewayError("markets.file \(config.file ?? "(built-ins)"): \(error)")
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

    /// Stops the feed, then the worker (which drains what is queued), then writes the final
    /// checkpoint (open bars stay open in it) so the next start goes on exactly from here.
    public func stop() {
        feed?.stop()
        worker.stop()
        if let checkpointer {
            do {
                try checkpointer.saveNow(worker.checkpoint())
            } catch {
                logger.error("final checkpoint not written: \(error); the next start replays the journaled inputs")
            }
        }
        journal?.close()
        (worker.journal as? JournalWriter)?.inputs?.close()
    }

    /// The pipeline part of `/admin/health`.
    func describe(_ w: inout JSONWriter) {
        let s = worker.stats
        let totals = s.counts.totals
        w.beginObject("pipeline")
        w.string("feed", feed?.kind ?? feedName)
        if let feed { w.string("feed_state", feed.state) }
        w.int("ticks", totals.ticks)
        w.int("out_of_order", totals.outOfOrder)
        w.int("bars", totals.bars)
        w.int("signals", totals.signals)
        w.int("opportunities", totals.opportunities)
        w.int("alerts", totals.alerts)
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
        if let inputs = (worker.journal as? JournalWriter)?.inputs {
            w.uint64("inputs_last_seq", inputs.stats.lastSeq.load(ordering: .relaxed))
            w.int("inputs_segments", inputs.stats.segments.load(ordering: .relaxed))
        }
        if let c = checkpointer {
            w.int("checkpoints", c.written.load(ordering: .relaxed))
            w.int("checkpoints_failed", c.failed.load(ordering: .relaxed))
            w.int("checkpoint_bytes", c.lastBytes.load(ordering: .relaxed))
            w.int("checkpoint_us", c.lastMicros.load(ordering: .relaxed))
            w.uint64("checkpoint_input_seq", c.lastInputSeq.load(ordering: .relaxed))
        }
        w.endObject()
    }
}
