import Locks
import Histogram

/// Latencies of a few stages (nanoseconds), recorded by one owner thread and read by any other.
///
/// The owner (the pipeline worker, a reactor loop) records a batch of values under one
/// *try*-lock: when a scrape holds the lock, the values go to private pending counts merged on
/// the next record, so a reader never blocks the owner. Each stage keeps:
/// - since start: counts per fixed bucket (`bucketBoundsNs`, the Prometheus `le` bounds), the
///   count and the sum — a scrape reads these without walking a histogram;
/// - a sliding window of the last 10–20 s as hdr histograms (2 significant digits), for the
///   quantiles `dongfeng top` shows, rotated every `windowNs` by whoever holds the lock.
public final class LatencyRecorder: @unchecked Sendable {
    public typealias Values = Histogram<UInt64>

    /// 2 significant digits from 1 ns to 60 s: about 3,700 buckets (30 KB) per histogram.
    static func makeHistogram() -> Values {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: maxValueNs, numberOfSignificantValueDigits: .two)
    }
    static let maxValueNs: UInt64 = 60_000_000_000

    /// Upper bounds of the cumulative buckets (1 µs … 10 s); one more bucket holds the rest.
    public static let bucketBoundsNs: [UInt64] = [
        1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
        10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000,
        5_000_000_000, 10_000_000_000,
    ]

    @inline(__always)
    static func bucket(_ value: UInt64) -> Int {
        var low = 0, high = bucketBoundsNs.count  // first bound >= value; count = "above every bound"
        while low < high {
            let mid = (low + high) >> 1
            if bucketBoundsNs[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Values of one stage: a window histogram plus since-start buckets, count and sum.
    struct Counts {
        var window = LatencyRecorder.makeHistogram()
        var buckets = [UInt64](repeating: 0, count: LatencyRecorder.bucketBoundsNs.count + 1)
        var count: UInt64 = 0
        var sumNs: UInt64 = 0

        @inline(__always)
        mutating func record(_ ns: Int64) {
            let value = UInt64(clamping: ns)
            _ = window.record(min(value, LatencyRecorder.maxValueNs))
            buckets[LatencyRecorder.bucket(value)] &+= 1
            count &+= 1
            sumNs &+= value
        }

        mutating func add(_ other: Counts) {
            window.add(other.window)
            for i in buckets.indices { buckets[i] &+= other.buckets[i] }
            count &+= other.count
            sumNs &+= other.sumNs
        }

        mutating func reset() {
            window.reset()
            for i in buckets.indices { buckets[i] = 0 }
            count = 0
            sumNs = 0
        }
    }

    struct Stage {
        /// Since start, with `current.window` the window being filled.
        var current = Counts()
        /// The last finished window.
        var previous = LatencyRecorder.makeHistogram()
    }

    struct Shared {
        var stages: [Stage]
        var windowStartNs: Int64

        mutating func rotateIfDue(_ nowNs: Int64, windowNs: Int64) {
            guard nowNs - windowStartNs >= windowNs else { return }
            let idle = nowNs - windowStartNs >= 2 * windowNs
            for i in stages.indices {
                var stage = stages[i]
                if idle {
                    stage.previous.reset()  // nothing recorded for a whole window: nothing recent
                } else {
                    swap(&stage.previous, &stage.current.window)
                }
                stage.current.window.reset()
                stages[i] = stage
            }
            windowStartNs = nowNs
        }
    }

    /// Stage names, in the order of their indices.
    public let stages: [String]
    private let windowNs: Int64
    /// A pthread lock rather than `Mutex`, so ThreadSanitizer can check it (PThreadLocked).
    let shared: PThreadLocked<Shared>
    /// Owner-only: values recorded while a reader held the lock.
    private var pending: [Counts]
    private var pendingCount = 0

    public init(stages: [String], windowNs: Int64 = 10_000_000_000, nowNs: Int64) {
        self.stages = stages
        self.windowNs = windowNs
        shared = PThreadLocked(Shared(stages: stages.map { _ in Stage() }, windowStartNs: nowNs))
        pending = stages.map { _ in Counts() }
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
                for i in state.stages.indices where pending[i].count > 0 {
                    state.stages[i].current.add(pending[i])
                    pending[i].reset()
                }
                pendingCount = 0
            }
            body { stage, ns in state.stages[stage].current.record(ns) }
            return true
        }
        if done == nil {
            body { stage, ns in
                pending[stage].record(ns)
                pendingCount += 1
            }
        }
    }

    /// Merges values recorded while a reader held the lock (the next `record` does it too): for
    /// an owner about to go idle. Owner thread only.
    public func flushPending(nowNs: Int64) {
        if pendingCount > 0 { record(nowNs: nowNs) { _ in } }
    }

    /// A consistent copy of one stage for export. Any thread; holds the lock for the copy only
    /// (two window histograms and a few counters).
    public func snapshot(_ stage: Int, nowNs: Int64) -> LatencySnapshot {
        let (counts, previous) = shared.withLock { state in
            state.rotateIfDue(nowNs, windowNs: windowNs)
            return (state.stages[stage].current, state.stages[stage].previous)
        }
        var recent = counts.window
        recent.add(previous)
        return LatencySnapshot(buckets: counts.buckets, count: counts.count, sumNs: counts.sumNs, recent: recent)
    }

    /// The snapshot of the stage named `name` (nil when this recorder has no such stage).
    public func snapshot(named name: String, nowNs: Int64) -> LatencySnapshot? {
        stages.firstIndex(of: name).map { snapshot($0, nowNs: nowNs) }
    }
}

/// What a scrape reads of one stage (merged across recorders, e.g. one per reactor loop).
public struct LatencySnapshot: Sendable {
    /// Values per bucket of `LatencyRecorder.bucketBoundsNs` (not cumulative), plus the last
    /// one for values above every bound.
    public var buckets: [UInt64]
    public var count: UInt64
    public var sumNs: UInt64
    /// The last 10–20 s.
    public var recent: LatencyRecorder.Values

    public init() {
        buckets = [UInt64](repeating: 0, count: LatencyRecorder.bucketBoundsNs.count + 1)
        count = 0
        sumNs = 0
        recent = LatencyRecorder.makeHistogram()
    }

    init(buckets: [UInt64], count: UInt64, sumNs: UInt64, recent: LatencyRecorder.Values) {
        self.buckets = buckets
        self.count = count
        self.sumNs = sumNs
        self.recent = recent
    }

    /// Merges another recorder's snapshot of the same stage.
    public mutating func add(_ other: LatencySnapshot) {
        for i in buckets.indices { buckets[i] &+= other.buckets[i] }
        count &+= other.count
        sumNs &+= other.sumNs
        recent.add(other.recent)
    }

    /// (upper bound in ns, values at or below it) for each bound: Prometheus `le` buckets.
    public var cumulativeBuckets: [(boundNs: UInt64, count: UInt64)] {
        var running: UInt64 = 0
        return LatencyRecorder.bucketBoundsNs.enumerated().map { i, bound in
            running &+= buckets[i]
            return (bound, running)
        }
    }

    /// Values ≤ `ns` since start, for `ns` one of the bucket bounds (else: values in the buckets
    /// whose bound is ≤ `ns`).
    public func count(atOrBelow ns: UInt64) -> UInt64 {
        cumulativeBuckets.last { $0.boundNs <= ns }?.count ?? 0
    }

    /// A quantile (0...1) of the recent window in nanoseconds; nil when the window is empty.
    public func recentQuantile(_ q: Double) -> UInt64? {
        recentQuantiles([q])[0]
    }

    /// Several quantiles (ascending, 0...1) of the recent window in one pass over its recorded
    /// values (a scrape asks for four per stage); nil each when the window is empty.
    public func recentQuantiles(_ qs: [Double]) -> [UInt64?] {
        let total = recent.totalCount
        guard total > 0 else { return qs.map { _ in nil } }
        var out: [UInt64?] = qs.map { _ in nil }
        var next = 0
        for (i, q) in qs.enumerated() where q >= 1 { out[i] = recent.maxRecorded }  // the largest value itself
        for step in recent.recordedValues() {
            while next < qs.count, qs[next] >= 1 { next += 1 }
            while next < qs.count,
                  Double(step.totalCountToThisValue) >= (qs[next] * Double(total)).rounded(.up) {
                out[next] = recent.highestEquivalentForValue(step.value)
                next += 1
            }
            if next == qs.count { break }
        }
        while next < qs.count {  // rounding at the very top
            if out[next] == nil { out[next] = recent.maxRecorded }
            next += 1
        }
        return out
    }
}
