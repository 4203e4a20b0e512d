import Locks
import CLinux
import Contracts
import Markets
import Glibc
import Synchronization
import Telemetry

/// A tick in an input ring with the monotonic time it reached the server (latency origin).
struct ReceivedTick {
    var tick: Tick
    var receivedNs: Int64
}

/// An event in an output ring with the monotonic time its originating tick reached the server
/// (0 for events made by the clock, e.g. a bar closed by the wall clock).
struct StampedEvent {
    var event: PipelineEvent
    var originNs: Int64
    /// A sequenced event's envelope JSON, encoded once: the journal's record, the WebSocket
    /// frames' text, and (the `payload` part of an opportunity or alert) the query store's
    /// answer. Empty for events not encoded on the worker (ticks, bars, features).
    var envelope: [UInt8] = []
    /// Where the payload object sits in `envelope`.
    var payload: Range<Int> = 0..<0
}

/// A producer's way into the pipeline: one SPSC ring per producer (feed thread, reactor loop),
/// with its full-ring policy. `submit` is called from that producer's thread only.
public final class TickInput: @unchecked Sendable {
    public let name: String
    public let policy: FullRingPolicy
    let ring: SPSCRing<ReceivedTick>
    let doorbell: Doorbell
    /// Ticks refused because the ring was full (`.reject` policy): reported to the client.
    public let rejectedFull = Atomic<Int>(0)
    /// Ticks of this input the worker has processed and whose events are journaled and
    /// published (a source may acknowledge its upstream up to here).
    public let committed = Atomic<Int>(0)
    /// Ticks this source refused as invalid before submitting, by the field at fault
    /// ("record" when the record as a whole was unreadable): bumped once per field per batch.
    public let rejectedInvalid = CountTable<String>()
    /// The venues' rules its producer screens ticks with before submitting (price grid, lots).
    public internal(set) var markets = MarketDirectory.off
    /// Monotonic ns of the last tick submitted (0 = none yet): this source's freshness.
    public let lastReceivedNs = Atomic<Int64>(0)
    /// Ticks this producer has submitted (its thread only).
    private var submitted = 0
    /// Callbacks waiting for `committed` to reach a count (`whenCommitted`).
    private let waiters = PThreadLocked<[(target: Int, body: @Sendable (Bool) -> Void)]>([])
    private let hasWaiters = Atomic<Bool>(false)

    init(name: String, capacity: Int, policy: FullRingPolicy, doorbell: Doorbell) {
        self.name = name
        self.policy = policy
        ring = SPSCRing(capacity: capacity)
        self.doorbell = doorbell
    }

    /// Hands a validated tick to the worker. False only under `.reject` when the ring is full.
    /// `receivedNs` (monotonic, `dfl_monotonic_ns`) is when it reached the server: the origin of
    /// the stage latencies; a batch passes one reading for all its ticks.
    /// With `wakeLater` the worker is not woken for this tick: the caller submits more and then
    /// calls `wake()` once, so a burst becomes one batch (one journal commit, one hand-off to
    /// the consumers) instead of the worker chasing the producer a tick at a time.
    @discardableResult
    public func submit(_ tick: Tick, receivedNs: Int64 = dfl_monotonic_ns(), wakeLater: Bool = false) -> Bool {
        lastReceivedNs.store(receivedNs, ordering: .relaxed)
        let item = ReceivedTick(tick: tick, receivedNs: receivedNs)
        if wakeLater, ring.tryPush(item) {
            submitted += 1
            return true
        }
        // Full (or waking anyway): the policy decides, ringing so a parked worker drains.
        if ring.push(item, policy: policy, doorbell: doorbell) {
            submitted += 1
            return true
        }
        rejectedFull.wrappingAdd(1, ordering: .relaxed)
        return false
    }

    /// A burst of ticks with one arrival time, the worker woken once at the end. Returns how
    /// many went in (all of them unless the policy is `.reject` and the ring filled).
    @discardableResult
    public func submit(contentsOf ticks: some Sequence<Tick>, receivedNs: Int64 = dfl_monotonic_ns()) -> Int {
        var accepted = 0
        for tick in ticks where submit(tick, receivedNs: receivedNs, wakeLater: true) { accepted += 1 }
        wake()
        return accepted
    }

    /// Wakes the worker for ticks submitted with `wakeLater`.
    public func wake() { doorbell.ring() }

    /// Calls `body(true)` once every tick submitted so far has been processed and its inputs and
    /// events journaled (any thread may run it: keep it short), or `body(false)` if the worker
    /// stops first. The producer's thread only. REST ingest answers 202 from here, so an accepted
    /// tick survives a crash right after the answer.
    public func whenCommitted(_ body: @escaping @Sendable (Bool) -> Void) {
        let target = submitted
        if committed.load(ordering: .sequentiallyConsistent) >= target {
            body(true)
            return
        }
        waiters.withLock { $0.append((target, body)) }
        // Sequentially consistent with the worker's add and load (a store then a load on each
        // side): one of the two always sees the other, so no waiter is left behind.
        hasWaiters.store(true, ordering: .sequentiallyConsistent)
        fireCommitted()  // the worker may have committed in between
    }

    /// Runs the waiters whose ticks are committed (each exactly once: whoever removes it runs it).
    func fireCommitted(stopped: Bool = false) {
        guard hasWaiters.load(ordering: .sequentiallyConsistent) else { return }
        let done = committed.load(ordering: .sequentiallyConsistent)
        let ready = waiters.withLock { list -> [(target: Int, body: @Sendable (Bool) -> Void)] in
            let ready = list.filter { stopped || $0.target <= done }
            list.removeAll { stopped || $0.target <= done }
            if list.isEmpty { hasWaiters.store(false, ordering: .releasing) }
            return ready
        }
        for waiter in ready { waiter.body(waiter.target <= done) }
    }

    /// Free slots right now (a hint for "would a batch of n fit").
    public var freeCapacity: Int { ring.freeCapacityHint }
    public var depth: Int { ring.count }
    /// Entries the ring holds at most.
    public var capacity: Int { ring.capacity }
}

/// A consumer's way out: its ring and the wake-up to call after a batch (an eventfd write).
public final class EventOutput: @unchecked Sendable {
    let ring: SPSCRing<StampedEvent>
    let wake: @Sendable () -> Void
    /// Lossy events (ticks, bars, features) dropped because the consumer lagged.
    public let droppedLossy = Atomic<Int>(0)
    var pending = false
    /// The lossy channels the consumer wants now, one bit each (`lossyBit`): a tick, bar or
    /// features event on a channel nobody reads is not copied into the ring at all. Every one
    /// until the consumer says otherwise. Sequenced events always go (the consumer's seq
    /// bookkeeping sees every one).
    private let lossyWanted = Atomic<UInt8>(0b111)

    /// The consumer's interest in lossy events, from any thread. An event already in the ring
    /// stays; one the worker made before it saw the change may be skipped (lossy channels
    /// promise nothing about a subscription's first moments).
    public func want(lossy channels: some Sequence<Channel>) {
        var mask: UInt8 = 0
        for channel in channels { mask |= Self.lossyBit(channel) }
        lossyWanted.store(mask, ordering: .relaxed)
    }

    /// Whether the worker copies `event` into this ring.
    @inline(__always)
    func wants(_ event: PipelineEvent) -> Bool {
        let bit: UInt8
        switch event {
        case .tick: bit = 1
        case .bar: bit = 2
        case .features: bit = 4
        case .signal, .opportunity, .alert: return true
        }
        return lossyWanted.load(ordering: .relaxed) & bit != 0
    }

    private static func lossyBit(_ channel: Channel) -> UInt8 {
        switch channel {
        case .ticks: 1
        case .bars: 2
        case .features: 4
        case .signals, .opportunities, .riskAlerts: 0
        }
    }

    init(capacity: Int, wake: @escaping @Sendable () -> Void) {
        ring = SPSCRing(capacity: capacity)
        self.wake = wake
    }

    /// Takes every waiting event, in order, with the monotonic time its tick reached the server
    /// (0 when the clock made it). The consumer's thread only.
    @discardableResult
    public func drain(_ body: (PipelineEvent, _ originNs: Int64) -> Void) -> Int {
        ring.drain { item, _ in body(item.event, item.originNs) }
    }

    /// The same, with a sequenced event's envelope JSON as the worker encoded it
    /// (`PipelineEvent.envelope`, naming `PipelineWorker.instance` when set); empty when it was
    /// not encoded there.
    @discardableResult
    public func drain(_ body: (PipelineEvent, _ originNs: Int64, _ envelope: [UInt8]) -> Void) -> Int {
        ring.drain { item, _ in body(item.event, item.originNs, item.envelope) }
    }

    /// Events waiting.
    public var depth: Int { ring.count }
    /// Entries the ring holds at most.
    public var capacity: Int { ring.capacity }
}

/// Counters readable from any thread (health, metrics).
public final class PipelineStats: Sendable {
    public let lastSeq = Atomic<UInt64>(0)
    /// Monotonic ms when the last batch with ticks was published (0 = none yet): feed freshness.
    public let lastTickMs = Atomic<Int64>(0)
    /// What this process published (totals, signals by strategy, opportunities by status,
    /// alerts by kind), kept by the worker in a plain value and copied here once per batch when
    /// it changed: readers never touch the worker's own state, and the worker takes this lock
    /// once a batch.
    private let published = PThreadLocked<Counts>(Counts())
    public init() {}

    public struct Counts: Sendable, Equatable {
        /// Per process (a restart starts again at 0, as Prometheus counters expect), unlike the
        /// engine's own counters, which a checkpoint carries across restarts.
        public var totals = EngineCounters()
        public var signalsByStrategy: [String: Int] = [:]
        public var opportunitiesByStatus: [String: Int] = [:]
        public var alertsByKind: [String: Int] = [:]
    }

    public var counts: Counts { published.withLock { $0 } }

    /// Stage latencies from a tick reaching the server (its `receivedNs`), measured when the
    /// worker publishes (after the journal commit, as consumers get the event): `tick` for every
    /// tick, and `features`, `signal`, `opportunity` for what a tick's arrival made.
    public let latency = LatencyRecorder(stages: PipelineStats.stages, nowNs: dfl_monotonic_ns())
    public static let stages = ["tick", "features", "signal", "opportunity"]
    func publish(_ counts: Counts) { published.withLock { $0 = counts } }
}

/// Where sequenced events are made durable before anyone sees them (the Store's journal).
/// Every call comes on the worker thread: `appendInput` for each engine input when
/// `journalsInputs` (ticks and acting clock steps, in the order the engine took them), `append`
/// for each sequenced event of a batch, in seq order; `commit` once at the end of the batch —
/// inputs first, then events — before the batch's events reach the query store or any consumer,
/// so no client ever holds an event the journal lacks, and an event the journal holds always has
/// its inputs on disk too.
public protocol EventJournal: AnyObject {
    /// Engine inputs are journaled (exact recovery: checkpoint + the inputs after it).
    var journalsInputs: Bool { get }
    /// The number of the last input appended (0 = none yet).
    var inputSeq: UInt64 { get }
    func appendInput(_ input: EngineInput)
    /// A sequenced event encoded as its envelope (`PipelineEvent.envelope`).
    func append(seq: UInt64, envelope: UnsafeRawBufferPointer)
    func commit()
}

/// The pipeline's one worker thread: drains every input ring as a batch (Disruptor style), runs
/// the engine, records outputs in the store and fans them out to consumer rings, waking each
/// consumer once per batch. Sleeps on a futex when there is no input (with a 100 ms timeout to
/// close bars by the wall clock and watch for stale feeds).
public final class PipelineWorker: @unchecked Sendable {
    public let store: EventStore
    public let stats = PipelineStats()
    private let doorbell = Doorbell(spins: 1_000)
    private var inputs: [TickInput] = []
    private var outputs: [EventOutput] = []
    /// The producer and consumer rings (fixed once the worker starts; for metrics).
    public var inputRings: [TickInput] { inputs }
    public var outputRings: [EventOutput] { outputs }
    private var engine: SignalEngine!
    private var sink: WorkerSink!
    private let barGraceMs: Int64
    private let running = Atomic<Bool>(false)
    /// Set before `start`; nil = no journal.
    public var journal: EventJournal?
    /// Set before `start`: the gateway's name in a multi-instance deployment, written into every
    /// sequenced event's envelope (journal, frames, the Redis bridge) so clients can tell origins
    /// apart and resume per origin; nil = a single gateway.
    public var instance: String?
    /// This batch's events, published after the journal commit.
    private var batch: [StampedEvent] = []
    /// Signal outcomes of the batch, and the strategies they scored.
    private var outcomes: [SignalOutcome] = []
    private var scoredStrategies: [String] = []
    /// When the tick being processed reached the server (0 while the clock closes bars).
    private var originNs: Int64 = 0
    /// The worker's own labelled counts (copied to `stats` after a batch that changed them).
    private var counts = PipelineStats.Counts()
    private var countsChanged = false
    private var batchHadTicks = false
    private let pendingStrategies = PThreadLocked<StrategyRegistry?>(nil)
    private var thread: WorkerThread?
    /// Recovery: sequenced events up to this seq are in the journal already (not made again).
    private var recoveredThrough: UInt64?
    private var recoveredNew = 0
    /// Set before `start`: every `checkpointIntervalMs` (0 = never) of activity, the engine's state
    /// is handed to `onCheckpoint` on the worker thread, between two batches (after the commit, so
    /// the state includes exactly the inputs up to its `inputSeq`). The handler must not block.
    public var checkpointIntervalMs: Int64 = 0
    public var onCheckpoint: (@Sendable (EngineCheckpoint) -> Void)?
    /// Whether `stop` closes every open bar (end of input). Off when a checkpoint keeps them open
    /// across a restart, so a clean restart goes on exactly as an uninterrupted run.
    public var closesBarsAtStop = true
    /// Set before `start`: within a burst of ticks, the events made so far are journaled and handed
    /// to the outputs once this much work (monotonic ns) has gone by, so the first ticks' events do
    /// not wait for the last ticks' work (Benchmarks: POST → WSS latency at 50k ticks/s). Each slice
    /// costs a journal write and a consumer wake-up; a quiet feed's bursts fit in one.
    public var publishSliceNs: Int64 = 100_000

    /// "Now" for bar closes and stale feeds: the wall clock, or a recorded feed's clock.
    public let clock = MarketClock()
    /// The engine's market time (the latest tick or bar close): before `start` or after `stop` only.
    public var marketTime: Int64 { engine.marketTime }

    public init(settings: EngineSettings, strategies: StrategyRegistry, store: EventStore, barGraceMs: Int64 = 250,
                lastSeq: UInt64 = 0) {
        self.store = store
        self.barGraceMs = barGraceMs
        sink = WorkerSink(worker: self)
        engine = SignalEngine(settings: settings, strategies: strategies, sink: sink, lastSeq: lastSeq)
        // New indicator instances warm up on the bars the query store holds.
        engine.history = { [store] symbol in store.bars(symbol, limit: store.perSymbolHistory) }
    }

    /// A new producer ring (before `start`).
    public func makeInput(name: String, capacity: Int = 1 << 14, policy: FullRingPolicy) -> TickInput {
        let input = TickInput(name: name, capacity: capacity, policy: policy, doorbell: doorbell)
        input.markets = engine.settings.markets
        inputs.append(input)
        return input
    }

    /// A new consumer ring (before `start`); `wake` runs on the worker thread after a batch.
    public func addOutput(capacity: Int = 1 << 16, wake: @escaping @Sendable () -> Void) -> EventOutput {
        let output = EventOutput(capacity: capacity, wake: wake)
        outputs.append(output)
        return output
    }

    /// The engine's whole state with the input journal's position (after `stop`, or on the
    /// worker thread between batches).
    public func checkpoint() -> EngineCheckpoint {
        var c = engine.checkpoint()
        c.inputSeq = journal?.inputSeq ?? 0
        return c
    }

    /// Recovery, before `start`: the engine state of `checkpoint` (nil: an empty engine), then
    /// `inputs` fed again as the worker fed them. Sequenced events up to `journaledThrough` are in
    /// the journal (and the store) already and are dropped; later ones — their inputs reached the
    /// disk, they did not — are journaled and recorded now, under the seqs the engine gives them
    /// again. Bars and features go to the store. With `publishNew` false (inputs without a state
    /// to start from) every sequenced event is dropped: the indicators warm up, nothing is said.
    /// Returns the number of events journaled anew, and the seq the replay reached (below
    /// `journaledThrough`: the journal holds events whose inputs were not replayed).
    @discardableResult
    public func recover(from checkpoint: EngineCheckpoint?, inputs: [EngineInput], journaledThrough: UInt64,
                        publishNew: Bool = true) -> (made: Int, reached: UInt64) {
        if let checkpoint { engine.restore(checkpoint) }
        recoveredThrough = publishNew ? journaledThrough : .max
        recoveredNew = 0
        for input in inputs {
            // A strategies change warms new indicators on the store's bars: bring the store up
            // to this input first, as the live worker had it (it publishes every batch).
            if case .strategies = input { flushOutputs() }
            engine.replay(input)
        }
        flushOutputs()
        // A warm-up's signals are taken back (their seqs will be given again): so are their scores.
        if !publishNew { engine.scorer = LiveScorer(settings: engine.settings.scoring) }
        store.restoreScores(engine.liveScores, outcomes: engine.recentOutcomes, horizons: engine.settings.scoring.horizons)
        let made = recoveredNew
        let reached = engine.seq
        recoveredThrough = nil
        // Warm-up only: the seqs it gave its unsaid events are taken back (no gap in the sequence).
        if !publishNew { engine.seq = journaledThrough } else { engine.advanceSeq(to: journaledThrough) }
        stats.lastSeq.store(engine.seq, ordering: .relaxed)
        return (made, reached)
    }

    /// After recovery, before `start`: see `SignalEngine.resume(wallMs:holdMs:)`. An input like any
    /// other (journaled), so a crash soon after a restart replays through it exactly.
    public func resume(wallMs: Int64, holdMs: Int64) {
        if journal?.journalsInputs == true {
            journal?.appendInput(.resume(wallMs: wallMs, holdMs: holdMs))
            journal?.commit()
        }
        engine.resume(wallMs: wallMs, holdMs: holdMs)
    }

    /// Replaces the strategies between two batches; indicator state is kept. Any thread.
    public func updateStrategies(_ registry: StrategyRegistry) {
        pendingStrategies.withLock { $0 = registry }
        doorbell.wakeAll()
    }

    public var strategies: StrategyRegistry {
        pendingStrategies.withLock { $0 } ?? engine.strategies
    }

    public func start() {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        thread = WorkerThread.spawn(name: "df-pipeline") { self.run() }
    }

    /// Stops after draining what is queued. Any thread; blocks until the worker has exited.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        doorbell.wakeAll()
        thread?.join()
        thread = nil
    }

    private func run() {
        var lastClock = dfl_monotonic_ms()
        var lastCheckpoint = lastClock
        let journalsInputs = journal?.journalsInputs ?? false
        var checkpointedInput = journalsInputs ? journal?.inputSeq ?? 0
            : UInt64(engine.counters.ticks &+ engine.counters.outOfOrder &+ engine.counters.bars &+ engine.counters.alerts)
        var taken = [Int](repeating: 0, count: inputs.count)
        while true {
            let active = running.load(ordering: .acquiring)
            doorbell.wait(timeoutMs: 100) { [inputs] in !active || inputs.contains { !$0.ring.isEmpty } }
            if let registry = pendingStrategies.withLock({ p -> StrategyRegistry? in defer { p = nil }; return p }) {
                engine.strategies = registry
                if journalsInputs { journal?.appendInput(.strategies(registry.fileJSON)) }
            }
            var drained = 0
            var flushedNs = dfl_monotonic_ns()
            for (i, input) in inputs.enumerated() {
                let n = input.ring.drain(limit: 4096) { item, _ in
                    originNs = item.receivedNs
                    let wallMs = clock.now()
                    if journalsInputs { journal?.appendInput(.tick(item.tick, wallMs: wallMs)) }
                    if case .outOfOrder = engine.process(item.tick, wallMs: wallMs) {
                        counts.totals.outOfOrder += 1
                        countsChanged = true
                    }
                    // A long burst (a big POST, a backlog after a stall) is published in slices:
                    // the first ticks' events do not wait for the last ticks' work.
                    if !batch.isEmpty {
                        let nowNs = dfl_monotonic_ns()
                        if nowNs - flushedNs >= publishSliceNs {
                            flushOutputs()
                            flushedNs = nowNs
                        }
                    }
                }
                drained += n
                taken[i] = n
            }
            originNs = 0
            let now = dfl_monotonic_ms()
            if now - lastClock >= 100 {
                lastClock = now
                let wallMs = clock.now()
                // A step that changed nothing is no input: an idle server journals nothing.
                if engine.tickClock(wallMs: wallMs, graceMs: barGraceMs), journalsInputs {
                    journal?.appendInput(.clock(wallMs: wallMs, graceMs: barGraceMs))
                }
                stats.latency.flushPending(nowNs: dfl_monotonic_ns())
            }
            flushOutputs()
            for (i, n) in taken.enumerated() where n > 0 {
                inputs[i].committed.wrappingAdd(n, ordering: .sequentiallyConsistent)
                inputs[i].fireCommitted()
                taken[i] = 0
            }
            if checkpointIntervalMs > 0, let onCheckpoint, now - lastCheckpoint >= checkpointIntervalMs {
                lastCheckpoint = now
                // Progress since the last one: journaled inputs, or (inputs off) what the engine did.
                let progress = journalsInputs ? journal?.inputSeq ?? 0
                    : UInt64(engine.counters.ticks &+ engine.counters.outOfOrder &+ engine.counters.bars &+ engine.counters.alerts)
                if progress != checkpointedInput {
                    checkpointedInput = progress
                    onCheckpoint(checkpoint())
                }
            }
            if !active && drained == 0 { break }
        }
        originNs = 0  // bars closed at shutdown were not made by a tick's arrival
        if closesBarsAtStop {
            engine.finish()
            flushOutputs()
        }
        for input in inputs { input.fireCommitted(stopped: true) }
    }

    fileprivate func emit(_ event: PipelineEvent) {
        if let through = recoveredThrough, let seq = event.seq {
            if seq <= through { return }
            recoveredNew += 1
        }
        var item = StampedEvent(event: event, originNs: originNs)
        if let seq = event.seq {
            // Encoded once: the envelope is the journal record and the subscribers' frame text,
            // its payload the store's answer.
            var w = JSONWriter(capacity: 512)
            var at = 0
            event.envelope(&w, instance: instance, payloadAt: &at)
            if let journal { w.bytes.withUnsafeBytes { journal.append(seq: seq, envelope: $0) } }
            item.payload = at..<(w.bytes.count - 1)
            item.envelope = w.bytes
        }
        batch.append(item)
        // Ticks and bars may pile up in a large batch; publish early when nothing needs a commit.
        if batch.count >= 8192 { publishBatch() }
    }

    /// Commits the journal, then records and fans out the batch's events in order.
    private func publishBatch() {
        guard !batch.isEmpty else {
            journal?.commit()  // inputs that made no event (a repeated alert held back) are journaled too
            publishOutcomes()
            return
        }
        journal?.commit()
        // Outcomes before the bars that complete them: a reader who sees a bar sees its outcomes.
        publishOutcomes()
        let now = dfl_monotonic_ns()
        stats.latency.record(nowNs: now) { add in
            for item in batch where item.originNs != 0 {
                switch item.event {
                case .tick: add(0, now - item.originNs)
                case .features: add(1, now - item.originNs)
                case .signal: add(2, now - item.originNs)
                case .opportunity: add(3, now - item.originNs)
                case .bar, .alert: break
                }
            }
        }
        // Stored before any consumer gets them: a client told of an event can query it.
        store.record(batch)
        for item in batch { publish(item) }
        batch.removeAll(keepingCapacity: batch.capacity <= 65_536)
        if countsChanged {
            countsChanged = false
            stats.publish(counts)
        }
        if batchHadTicks {
            batchHadTicks = false
            stats.lastTickMs.store(dfl_monotonic_ms(), ordering: .relaxed)
        }
    }

    private func publish(_ item: StampedEvent) {
        let event = item.event
        switch event {
        case .tick:
            counts.totals.ticks += 1
            batchHadTicks = true
        case .bar: counts.totals.bars += 1
        case .features: break
        case .signal(let s):
            counts.totals.signals += 1
            counts.signalsByStrategy[s.strategy, default: 0] += 1
        case .opportunity(let o):
            counts.totals.opportunities += 1
            counts.opportunitiesByStatus[o.status.rawValue, default: 0] += 1
        case .alert(let a):
            counts.totals.alerts += 1
            counts.alertsByKind[a.kind, default: 0] += 1
        }
        if case .features = event {} else { countsChanged = true }
        if let seq = event.seq { stats.lastSeq.store(seq, ordering: .relaxed) }
        for output in outputs where output.wants(event) {
            if output.ring.tryPush(item) {
                output.pending = true
                continue
            }
            if event.seq == nil {
                output.droppedLossy.wrappingAdd(1, ordering: .relaxed)  // lossy channel: drop, counted
                continue
            }
            // Sequenced events are never dropped: wake the consumer and wait for room.
            output.wake()
            var spins = 0
            while !output.ring.tryPush(item) {
                spins += 1
                if spins > 64 { Backoff.sleep(microseconds: 100) }
            }
            output.pending = true
        }
    }

    /// A signal outcome, stored with the batch, and its strategy's scorecard figures as the
    /// batch leaves them (the store keeps figures, not the scorer's windows).
    fileprivate func record(_ outcome: SignalOutcome) {
        if recoveredThrough == .max { return }
        outcomes.append(outcome)
        if !scoredStrategies.contains(outcome.strategy) { scoredStrategies.append(outcome.strategy) }
    }

    private func publishOutcomes() {
        guard !outcomes.isEmpty else { return }
        let live = engine.liveScores
        store.record(outcomes: outcomes, scores: scoredStrategies.compactMap { name in live[name].map { (name, $0.card) } })
        outcomes.removeAll(keepingCapacity: true)
        scoredStrategies.removeAll(keepingCapacity: true)
    }

    private func flushOutputs() {
        publishBatch()
        for output in outputs where output.pending {
            output.pending = false
            output.wake()
        }
    }
}

/// Bridges engine callbacks to the worker (kept separate so the engine holds it unowned).
final class WorkerSink: EngineSink {
    unowned let worker: PipelineWorker
    init(worker: PipelineWorker) { self.worker = worker }
    func engine(tick: Tick) { worker.emit(.tick(tick)) }
    func engine(bar: Bar) { worker.emit(.bar(bar)) }
    func engine(features: Features) { worker.emit(.features(features)) }
    func engine(signal: StrategySignal) { worker.emit(.signal(signal)) }
    func engine(opportunity: Opportunity) { worker.emit(.opportunity(opportunity)) }
    func engine(alert: RiskAlert) { worker.emit(.alert(alert)) }
    func engine(outcome: SignalOutcome, score: LiveScore) { worker.record(outcome) }
}
