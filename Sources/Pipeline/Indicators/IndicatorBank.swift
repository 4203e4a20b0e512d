import Contracts

/// The parameterised indicator calls of every rule in force, each computed once: identical calls
/// across rules share a slot, and calls that read different outputs of one indicator (`macd` /
/// `macd_signal`, the three bands) share its instance. Built when the strategies are compiled;
/// every symbol's `IndicatorBank` follows it.
public struct IndicatorPlan: Sendable, Equatable {
    /// The instances to run, in order of first use.
    public private(set) var instances: [IndicatorCall] = []
    /// Each distinct call a rule reads: its instance and which output.
    public private(set) var slots: [IndicatorCall] = []
    /// For each instance, the slots it fills and from which of its outputs.
    var targets: [[(slot: Int, output: Int)]] = []

    public init() {}

    /// The slot of `call`, added on first use.
    public mutating func slot(for call: IndicatorCall) -> Int {
        if let existing = slots.firstIndex(of: call) { return existing }
        let (instanceCall, output) = call.instance
        let instance: Int
        if let i = instances.firstIndex(of: instanceCall) {
            instance = i
        } else {
            instances.append(instanceCall)
            targets.append([])
            instance = instances.count - 1
        }
        slots.append(call)
        targets[instance].append((slots.count - 1, output))
        return slots.count - 1
    }

    public static func == (a: IndicatorPlan, b: IndicatorPlan) -> Bool { a.slots == b.slots && a.instances == b.instances }
}

/// One symbol's indicator instances for a plan, and the values of every slot on the last closed
/// bar and the one before (rules read both: `crosses_above`, edge triggering). Updating moves
/// the current values to `previous` and computes the new ones in place: no allocation per bar.
/// The instances are objects updated in place: a copy that must not share them (a checkpoint)
/// is made with `detached()`.
public struct IndicatorBank: @unchecked Sendable {
    public private(set) var plan: IndicatorPlan
    var runners: [IndicatorRunner]
    /// Each instance's state, as a value.
    public var states: [IndicatorState] { runners.map { $0.state() } }
    public internal(set) var values: [Double?]
    public internal(set) var previous: [Double?]
    /// Bars each instance has seen (warm-up reporting).
    public internal(set) var seen: [Int]

    public init(plan: IndicatorPlan) {
        self.plan = plan
        runners = plan.instances.map(IndicatorRunner.init)
        values = Array(repeating: nil, count: plan.slots.count)
        previous = values
        seen = Array(repeating: 0, count: plan.instances.count)
    }

    public var isEmpty: Bool { plan.instances.isEmpty }

    /// This bank with instances of its own.
    public func detached() -> IndicatorBank {
        var copy = self
        copy.runners = runners.map { $0.copy() }
        return copy
    }

    /// One closed bar: every instance once, every slot from its instance's outputs.
    public mutating func update(_ bar: Bar) {
        guard !runners.isEmpty else { return }
        swap(&values, &previous)
        for i in runners.indices { run(i, bar) }
    }

    @inline(__always)
    private mutating func run(_ instance: Int, _ bar: Bar) {
        let outputs = runners[instance].update(bar)
        seen[instance] += 1
        plan.targets.withUnsafeBufferPointer { targets in
            values.withUnsafeMutableBufferPointer { values in
                for target in targets[instance] {
                    values[target.slot] = target.output == 0 ? outputs.0 : target.output == 1 ? outputs.1 : outputs.2
                }
            }
        }
    }

    /// This bank moved to `plan`: instances the old plan had keep their state (a rule whose
    /// parameters did not change loses nothing); new ones start empty and are fed `history`
    /// (the symbol's held bars, oldest first). Returns how many bars the new instances saw.
    @discardableResult
    public mutating func adopt(_ plan: IndicatorPlan, history: [Bar]) -> Int {
        var runners: [IndicatorRunner] = []
        var seen: [Int] = []
        var fresh: [Int] = []
        for call in plan.instances {
            if let old = self.plan.instances.firstIndex(of: call) {
                runners.append(self.runners[old])
                seen.append(self.seen[old])
            } else {
                runners.append(IndicatorRunner(call))
                seen.append(0)
                fresh.append(runners.count - 1)
            }
        }
        var values = Array<Double?>(repeating: nil, count: plan.slots.count)
        var previous = values
        for (slot, call) in plan.slots.enumerated() {
            if let old = self.plan.slots.firstIndex(of: call) {
                values[slot] = self.values[old]
                previous[slot] = self.previous[old]
            }
        }
        self.plan = plan
        self.runners = runners
        self.seen = seen
        self.values = values
        self.previous = previous
        guard !fresh.isEmpty, !history.isEmpty else { return 0 }
        // Warm the new instances on the held bars: after the last one their slots hold the
        // values of that bar, and `previous` those of the bar before.
        let freshSlots = fresh.flatMap { plan.targets[$0].map(\.slot) }
        for bar in history {
            for slot in freshSlots { self.previous[slot] = self.values[slot] }
            for i in fresh { run(i, bar) }
        }
        return history.count
    }
}
