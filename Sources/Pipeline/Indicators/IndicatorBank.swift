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

/// A bank's slot values on the last closed bar (`current`) and the one before (`previous`), in
/// storage the engine's `RuleFrame` reads in place: an update swaps the two and writes the new
/// values, so nothing is lent, copied or allocated per bar.
public final class SlotValues: @unchecked Sendable {
    public let count: Int
    // Written only by the bank's owner between rule evaluations, on the engine's thread.
    @exclusivity(unchecked) var current: UnsafeMutablePointer<Double?>
    @exclusivity(unchecked) var previous: UnsafeMutablePointer<Double?>

    public init(count: Int) {
        self.count = count
        current = .allocate(capacity: max(1, count))
        current.initialize(repeating: nil, count: max(1, count))
        previous = .allocate(capacity: max(1, count))
        previous.initialize(repeating: nil, count: max(1, count))
    }

    /// Storage holding these values (`previous` may be shorter: the missing ones are nil).
    public convenience init(current: [Double?], previous: [Double?] = []) {
        self.init(count: max(current.count, previous.count))
        for (i, v) in current.enumerated() { self.current[i] = v }
        for (i, v) in previous.enumerated() { self.previous[i] = v }
    }

    deinit {
        current.deallocate()
        previous.deallocate()
    }

    public var currentValues: [Double?] { Array(UnsafeBufferPointer(start: current, count: count)) }
    public var previousValues: [Double?] { Array(UnsafeBufferPointer(start: previous, count: count)) }

    func copy() -> SlotValues { SlotValues(current: currentValues, previous: previousValues) }
}

/// One symbol's indicator instances for a plan, and the values of every slot on the last closed
/// bar and the one before (rules read both: `crosses_above`, edge triggering). Updating moves
/// the current values to `previous` and computes the new ones in place: no allocation per bar.
/// An object updated in place on the engine's thread: a copy that shares nothing with it (a
/// checkpoint) is made with `detached()`.
public final class IndicatorBank: @unchecked Sendable {
    public private(set) var plan: IndicatorPlan
    var runners: [IndicatorRunner] {
        didSet { rebuildRefs() }
    }
    /// `runners` without reference counting, for the per-bar loop (`runners` keeps them alive).
    private var refs = UnsafeMutableBufferPointer<Unmanaged<IndicatorRunner>>(start: nil, count: 0)
    /// Each instance's state, as a value.
    public var states: [IndicatorState] { runners.map { $0.state() } }
    /// The slot values, shared with the symbol's rule frame.
    public private(set) var table: SlotValues
    /// The plan's targets flattened: instance `i` fills `routes[routeStart[i]..<routeStart[i + 1]]`
    /// (output 0, 1 or 2 of the instance into a slot).
    private var routes: UnsafeMutableBufferPointer<(slot: Int, output: Int)>
    private var routeStart: UnsafeMutableBufferPointer<Int>
    public internal(set) var values: [Double?] {
        get { table.currentValues }
        set { for (i, v) in newValue.enumerated() where i < table.count { table.current[i] = v } }
    }
    public internal(set) var previous: [Double?] {
        get { table.previousValues }
        set { for (i, v) in newValue.enumerated() where i < table.count { table.previous[i] = v } }
    }
    /// Bars each instance has seen (warm-up reporting).
    public internal(set) var seen: [Int]

    public init(plan: IndicatorPlan) {
        self.plan = plan
        runners = plan.instances.map(IndicatorRunner.init)
        table = SlotValues(count: plan.slots.count)
        (routes, routeStart) = Self.routes(plan)
        seen = Array(repeating: 0, count: plan.instances.count)
        rebuildRefs()
    }

    deinit {
        routes.deallocate()
        routeStart.deallocate()
        refs.deallocate()
    }

    private func rebuildRefs() {
        refs.deallocate()
        refs = .allocate(capacity: runners.count)
        _ = refs.initialize(from: runners.map { Unmanaged.passUnretained($0) })
    }

    private static func routes(_ plan: IndicatorPlan)
        -> (UnsafeMutableBufferPointer<(slot: Int, output: Int)>, UnsafeMutableBufferPointer<Int>) {
        let flat = plan.targets.flatMap { $0 }
        let routes = UnsafeMutableBufferPointer<(slot: Int, output: Int)>.allocate(capacity: max(1, flat.count))
        _ = routes.initialize(from: flat)
        let start = UnsafeMutableBufferPointer<Int>.allocate(capacity: plan.targets.count + 1)
        var n = 0
        start[0] = 0
        for (i, targets) in plan.targets.enumerated() {
            n += targets.count
            start[i + 1] = n
        }
        return (routes, start)
    }

    public var isEmpty: Bool { plan.instances.isEmpty }

    /// This bank with instances and values of its own.
    public func detached() -> IndicatorBank {
        let copy = IndicatorBank(plan: plan)
        copy.runners = runners.map { $0.copy() }
        copy.table = table.copy()
        copy.seen = seen
        return copy
    }

    /// One closed bar: every instance once, every slot from its instance's outputs.
    public func update(_ bar: Bar) { update(BarValues(bar)) }

    public func update(_ bar: BarValues) {
        let refs = self.refs
        let n = refs.count
        guard n > 0 else { return }
        swap(&table.current, &table.previous)
        let values = table.current
        seen.withUnsafeMutableBufferPointer { seen in for i in 0..<n { seen[i] &+= 1 } }
        for i in 0..<n {
            let outputs = refs[i]._withUnsafeGuaranteedRef { $0.update(bar) }
            for r in routeStart[i]..<routeStart[i + 1] {
                let target = routes[r]
                values[target.slot] = target.output == 0 ? outputs.0 : target.output == 1 ? outputs.1 : outputs.2
            }
        }
    }

    /// One instance on one bar (warm-up of new instances).
    private func run(_ instance: Int, _ bar: Bar) {
        let outputs = runners[instance].update(BarValues(bar))
        seen[instance] += 1
        for target in plan.targets[instance] {
            table.current[target.slot] = target.output == 0 ? outputs.0 : target.output == 1 ? outputs.1 : outputs.2
        }
    }

    /// This bank moved to `plan`: instances the old plan had keep their state (a rule whose
    /// parameters did not change loses nothing); new ones start empty and are fed `history`
    /// (the symbol's held bars, oldest first). Returns how many bars the new instances saw.
    /// The values move to a new table (the frame that read the old one follows the bank).
    @discardableResult
    public func adopt(_ plan: IndicatorPlan, history: [Bar]) -> Int {
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
        let table = SlotValues(count: plan.slots.count)
        for (slot, call) in plan.slots.enumerated() {
            if let old = self.plan.slots.firstIndex(of: call) {
                table.current[slot] = self.table.current[old]
                table.previous[slot] = self.table.previous[old]
            }
        }
        self.plan = plan
        self.runners = runners
        self.seen = seen
        self.table = table
        routes.deallocate()
        routeStart.deallocate()
        (routes, routeStart) = Self.routes(plan)
        guard !fresh.isEmpty, !history.isEmpty else { return 0 }
        // Warm the new instances on the held bars: after the last one their slots hold the
        // values of that bar, and `previous` those of the bar before.
        let freshSlots = fresh.flatMap { plan.targets[$0].map(\.slot) }
        for bar in history {
            for slot in freshSlots { table.previous[slot] = table.current[slot] }
            for i in fresh { run(i, bar) }
        }
        return history.count
    }
}
