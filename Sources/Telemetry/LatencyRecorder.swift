import Histogram
import Synchronization

/// Latencies of a few stages (nanoseconds), recorded by one owner thread and read by any other.
///
/// The owner (the pipeline worker, a reactor loop) records a batch of values under one
/// *try*-lock: when a scrape holds the lock, the values go to private pending histograms merged
/// on the next record, so a reader never blocks the owner. Readers copy a stage's state under
/// the lock (tens of kilobytes, microseconds). Each stage keeps its values twice over:
/// - cumulative since start (Prometheus histogram buckets, `_sum`, `_count`);
/// - a sliding window of the last 10–20 s (the quantiles `dongfeng top` shows), rotated every
///   `windowNs` by whoever holds the lock.
public final class LatencyRecorder: @unchecked Sendable {
    public typealias Values = Histogram<UInt64>

    /// 2 significant digits from 1 ns to 60 s: about 3,700 buckets (30 KB) per histogram.
    static func makeHistogram() -> Values {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: maxValueNs, numberOfSignificantValueDigits: .two)
    }
    static let maxValueNs: UInt64 = 60_000_000_000

    struct Stage {
        /// Every value of finished windows.
        var completed = LatencyRecorder.makeHistogram()
        var previous = LatencyRecorder.makeHistogram()
        var current = LatencyRecorder.makeHistogram()
        var sumNs: UInt64 = 0
    }

    struct Shared {
        var stages: [Stage]
        var windowStartNs: Int64

        mutating func rotateIfDue(_ nowNs: Int64, windowNs: Int64) {
            guard nowNs - windowStartNs >= windowNs else { return }
            let idle = nowNs - windowStartNs >= 2 * windowNs
            for i in stages.indices {
                stages[i].completed.add(stages[i].current)
                if idle {
                    stages[i].previous.reset()  // nothing recorded for a whole window: nothing recent
                    stages[i].current.reset()
                } else {
                    var stage = stages[i]
                    swap(&stage.previous, &stage.current)
                    stage.current.reset()
                    stages[i] = stage
                }
            }
            windowStartNs = nowNs
        }
    }

    /// Stage names, in the order of their indices.
    public let stages: [String]
    private let windowNs: Int64
    let shared: Mutex<Shared>
    /// Owner-only: values recorded while a reader held the lock, and their sums.
    private var pending: [Values]
    private var pendingSum: [UInt64]
    private var pendingCount = 0

    public init(stages: [String], windowNs: Int64 = 10_000_000_000, nowNs: Int64) {
        self.stages = stages
        self.windowNs = windowNs
        shared = Mutex(Shared(stages: stages.map { _ in Stage() }, windowStartNs: nowNs))
        pending = stages.map { _ in Self.makeHistogram() }
        pendingSum = stages.map { _ in 0 }
    }

    /// Records one value of stage `stage`. Owner thread only.
    public func record(_ stage: Int, _ ns: Int64, nowNs: Int64) {
        record(nowNs: nowNs) { add in add(stage, ns) }
    }

    /// Records several values with one lock: `body` gets `add(stage, ns)` to call per value.
    /// Owner thread only.
    public func record(nowNs: Int64, _ body: ((Int, Int64) -> Void) -> Void) {
        let done: Bool? = shared.withLockIfAvailable { state in
            state.rotateIfDue(nowNs, windowNs: windowNs)
            if pendingCount > 0 {
                for i in state.stages.indices where pending[i].totalCount > 0 {
                    state.stages[i].current.add(pending[i])
                    state.stages[i].sumNs &+= pendingSum[i]
                    pending[i].reset()
                    pendingSum[i] = 0
                }
                pendingCount = 0
            }
            body { stage, ns in
                let value = UInt64(clamping: ns)
                _ = state.stages[stage].current.record(min(value, Self.maxValueNs))
                state.stages[stage].sumNs &+= value
            }
            return true
        }
        if done == nil {
            body { stage, ns in
                let value = UInt64(clamping: ns)
                _ = pending[stage].record(min(value, Self.maxValueNs))
                pendingSum[stage] &+= value
                pendingCount += 1
            }
        }
    }

    /// Merges values recorded while a reader held the lock (the next `record` does it too): for
    /// an owner about to go idle. Owner thread only.
    public func flushPending(nowNs: Int64) {
        if pendingCount > 0 { record(nowNs: nowNs) { _ in } }
    }

    /// A consistent copy of one stage for export. Any thread; holds the lock for the copy only.
    public func snapshot(_ stage: Int, nowNs: Int64) -> LatencySnapshot {
        shared.withLock { state in
            state.rotateIfDue(nowNs, windowNs: windowNs)
            let s = state.stages[stage]
            var total = s.completed
            total.add(s.current)
            var recent = s.previous
            recent.add(s.current)
            return LatencySnapshot(total: total, recent: recent, sumNs: s.sumNs)
        }
    }

    /// The snapshot of the stage named `name` (nil when this recorder has no such stage).
    public func snapshot(named name: String, nowNs: Int64) -> LatencySnapshot? {
        stages.firstIndex(of: name).map { snapshot($0, nowNs: nowNs) }
    }
}

/// What a scrape reads of one stage (merged across recorders, e.g. one per reactor loop).
public struct LatencySnapshot: Sendable {
    public var total: LatencyRecorder.Values
    public var recent: LatencyRecorder.Values
    public var sumNs: UInt64

    public init() {
        total = LatencyRecorder.makeHistogram()
        recent = LatencyRecorder.makeHistogram()
        sumNs = 0
    }

    init(total: LatencyRecorder.Values, recent: LatencyRecorder.Values, sumNs: UInt64) {
        self.total = total
        self.recent = recent
        self.sumNs = sumNs
    }

    /// Merges another recorder's snapshot of the same stage.
    public mutating func add(_ other: LatencySnapshot) {
        total.add(other.total)
        recent.add(other.recent)
        sumNs &+= other.sumNs
    }

    public var count: UInt64 { total.totalCount }

    /// Values ≤ `ns` since start (a Prometheus `le` bucket, to the histogram's 2 digits).
    public func count(atOrBelow ns: UInt64) -> UInt64 {
        total.totalCount == 0 ? 0 : total.count(within: 0...min(ns, LatencyRecorder.maxValueNs))
    }

    /// A quantile (0...1) of the recent window in nanoseconds; nil when the window is empty.
    public func recentQuantile(_ q: Double) -> UInt64? {
        recent.totalCount == 0 ? nil : recent.valueAtPercentile(q * 100)
    }
}
