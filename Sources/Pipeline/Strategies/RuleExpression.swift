import Contracts

/// What a rule reads on one bar of one symbol: the bar and its features, the symbol's
/// parameterised indicator values (`IndicatorBank` slots), and the previous bar's of each. The
/// engine keeps one per symbol and refills it on every bar close, so evaluating rules copies
/// nothing: a `RuleInput` is a reference to it.
public final class RuleFrame: @unchecked Sendable {
    // Read by every rule term on every bar, written only between bars by the engine's thread:
    // no dynamic exclusivity checks (they cost more than the reads).
    @exclusivity(unchecked) public internal(set) var features: Features
    @exclusivity(unchecked) public internal(set) var previous: Features?
    /// The symbol and interval of the frame's bars (one frame serves one symbol).
    @exclusivity(unchecked) public internal(set) var symbol: String
    @exclusivity(unchecked) public internal(set) var interval: String
    /// This bar's and the previous bar's numbers, kept apart from the names so refilling the
    /// frame on a bar close copies plain numbers only.
    @exclusivity(unchecked) public internal(set) var now: BarValues
    @exclusivity(unchecked) public internal(set) var prior: BarValues
    @exclusivity(unchecked) public internal(set) var hasPriorBar: Bool
    /// The symbol's indicator values on this bar and the one before (its bank's table, read in place).
    @exclusivity(unchecked) public internal(set) var slots: SlotValues
    /// Whether there is a bar before this one (`previous` or `previousBar`: a research run that
    /// reads no features computes none), kept so `RuleInput.before` tests a flag, not a whole
    /// optional struct. Set with them.
    @exclusivity(unchecked) public internal(set) var hasPrevious: Bool
    /// The symbol's recent highs and lows, before this bar (strategies that read them).
    @exclusivity(unchecked) public internal(set) var recent = RecentBars()

    public init(features: Features, previous: Features?, bar: Bar, previousBar: Bar?, slots: SlotValues) {
        self.features = features
        self.previous = previous
        self.hasPrevious = previous != nil || previousBar != nil
        symbol = bar.symbol
        interval = bar.interval
        now = BarValues(bar)
        prior = previousBar.map(BarValues.init) ?? now
        hasPriorBar = previousBar != nil
        self.slots = slots
    }

    public convenience init(features: Features, previous: Features?, bar: Bar, previousBar: Bar?, values: [Double?] = [],
                            previousValues: [Double?] = []) {
        self.init(features: features, previous: previous, bar: bar, previousBar: previousBar,
                  slots: SlotValues(current: values, previous: previousValues))
    }

    public var bar: Bar {
        get { now.bar(symbol: symbol, interval: interval) }
        set {
            symbol = newValue.symbol
            interval = newValue.interval
            now = BarValues(newValue)
        }
    }
    public var previousBar: Bar? { hasPriorBar ? prior.bar(symbol: symbol, interval: interval) : nil }
    public var values: [Double?] { slots.currentValues }
    public var previousValues: [Double?] { slots.previousValues }

    /// The engine's refill on a bar close of the frame's symbol: this bar becomes the previous one.
    @inline(__always)
    func advance(to bar: BarValues, hadBar: Bool) {
        if hadBar {
            prior = now
            hasPriorBar = true
            hasPrevious = true
        }
        now = bar
    }
}

/// A bar's numbers without its names.
public struct BarValues: Sendable, Equatable {
    public var start: Int64
    public var open, high, low, close, volume, vwap: Double
    public var trades: Int

    @inline(__always)
    public init(_ bar: Bar) {
        start = bar.start
        open = bar.open
        high = bar.high
        low = bar.low
        close = bar.close
        volume = bar.volume
        vwap = bar.vwap
        trades = bar.trades
    }

    public func bar(symbol: String, interval: String) -> Bar {
        Bar(symbol: symbol, interval: interval, start: start, open: open, high: high, low: low, close: close, volume: volume,
            vwap: vwap, trades: trades)
    }
}

/// Values a rule can read on a bar: every feature, the bar's OHLCV, the symbol's parameterised
/// indicator values, and the previous bar's of each (for `crosses_above` / `crosses_below` and
/// edge triggering). A view of a `RuleFrame`: on the frame's bar, or (`before`) on the bar before.
public struct RuleInput {
    public let frame: RuleFrame
    /// Reads the frame's previous bar as if it were the current one (its own previous unknown).
    public let past: Bool

    public init(frame: RuleFrame, past: Bool = false) {
        self.frame = frame
        self.past = past
    }

    /// A frame of its own (tests and tools; the engine reuses one per symbol).
    public init(features: Features, previous: Features?, bar: Bar, previousBar: Bar?,
                values: [Double?] = [], previousValues: [Double?] = []) {
        self.init(frame: RuleFrame(features: features, previous: previous, bar: bar, previousBar: previousBar,
                                   values: values, previousValues: previousValues))
    }

    // Borrowed from the frame: reading a field does not copy the whole struct.
    public var features: Features {
        _read { if past { yield frame.previous! } else { yield frame.features } }
    }
    public var previous: Features? {
        _read { if past { yield nil } else { yield frame.previous } }
    }
    public var bar: Bar { past && frame.hasPriorBar ? frame.previousBar! : frame.bar }
    public var previousBar: Bar? { past ? nil : frame.previousBar }
    public var values: [Double?] { past ? frame.previousValues : frame.values }
    public var previousValues: [Double?] { past ? [] : frame.previousValues }

    /// The previous bar as an input of its own (nil on a symbol's first bar); its own previous
    /// is unknown, so a cross evaluated on it is missing.
    public var before: RuleInput? { past || !frame.hasPrevious ? nil : RuleInput(frame: frame, past: true) }

    @inline(__always)
    func value(_ slot: Int) -> Double? {
        let slots = frame.slots
        guard slot < slots.count else { return nil }
        return past ? slots.previous[slot] : slots.current[slot]
    }
}

/// A parse error with the 1-based column where it was found.
public struct RuleParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let position: Int
    public let message: String
    public var description: String { "at column \(position): \(message)" }
}

/// A rule such as `rsi_14 < 30 && close > ema_50 || crosses_above(sma(close,fast), sma(close,slow))`,
/// parsed once into a tree of closures. Grammar (lowest precedence first): `||`, `&&`, `!`,
/// comparisons (`< <= > >= == !=`), `+ -`, `* /`, unary `-`, then numbers, names (features,
/// bar fields, the strategy's parameters), calls and parentheses. Calls are `crosses_above` /
/// `crosses_below` of any two expressions and the parameterised indicators of `IndicatorCall`
/// (`sma(close,10)`), each given a slot in the registry's `IndicatorPlan`. A missing value (a
/// warming-up indicator) makes comparisons false and arithmetic missing, so a rule never fires
/// on incomplete data.
public struct RuleExpression: Sendable {
    public let source: String
    /// The parsed rule, part by part (what `dongfeng trigger` reports on when a rule cannot be met).
    public let term: RuleTerm
    let evaluate: @Sendable (RuleInput) -> Double?

    /// `parameters` are the strategy's named numbers (`fast`, `slow`); indicator calls take
    /// their slots in `plan`.
    public init(_ source: String, parameters: [String: Double] = [:], plan: inout IndicatorPlan) throws(RuleParseError) {
        self.source = source
        let characters = Array(source)
        var parser = RuleParser(tokens: try RuleLexer.tokens(source), source: characters, parameters: parameters, plan: plan)
        let tree = try parser.parseOr()
        if let extra = parser.peek {
            throw RuleParseError(position: extra.position, message: "unexpected \(extra.text.debugDescription)")
        }
        plan = parser.plan
        term = tree
        evaluate = tree.evaluate
    }

    /// A rule on its own (tests, tools): indicator calls get slots in a plan of their own.
    public init(_ source: String, parameters: [String: Double] = [:]) throws(RuleParseError) {
        var plan = IndicatorPlan()
        try self.init(source, parameters: parameters, plan: &plan)
    }

    /// True when the rule holds on this bar.
    public func holds(_ input: RuleInput) -> Bool { (evaluate(input) ?? 0) != 0 }

    /// The rule's value on a bar as a closure of its own (a caller that evaluates it on every bar
    /// keeps this rather than the whole expression): 1 when it holds, 0 or nil when not.
    public var evaluation: @Sendable (RuleInput) -> Double? { evaluate }

    /// The names that read the bar itself rather than its features.
    public static let barFields = ["open", "high", "low", "close", "volume", "vwap"]

    /// The names a rule may use.
    public static let names: [String] = barFields
        + Features(symbol: "", interval: "", ts: 0, close: 0).fields.map(\.name)

    typealias Accessor = @Sendable (RuleInput) -> Double?

    /// Resolves a name once, at parse time, to a direct field read of the frame (no copies).
    static func accessor(_ name: String) -> Accessor? {
        switch name {
        case "open": return { $0.past && $0.frame.hasPriorBar ? $0.frame.prior.open : $0.frame.now.open }
        case "high": return { $0.past && $0.frame.hasPriorBar ? $0.frame.prior.high : $0.frame.now.high }
        case "low": return { $0.past && $0.frame.hasPriorBar ? $0.frame.prior.low : $0.frame.now.low }
        case "close": return { $0.past && $0.frame.hasPriorBar ? $0.frame.prior.close : $0.frame.now.close }
        case "volume": return { $0.past && $0.frame.hasPriorBar ? $0.frame.prior.volume : $0.frame.now.volume }
        case "vwap": return { $0.past && $0.frame.hasPriorBar ? $0.frame.prior.vwap : $0.frame.now.vwap }
        case "sma_20": return { $0.past ? $0.frame.previous?.sma20 : $0.frame.features.sma20 }
        case "ema_12": return { $0.past ? $0.frame.previous?.ema12 : $0.frame.features.ema12 }
        case "ema_26": return { $0.past ? $0.frame.previous?.ema26 : $0.frame.features.ema26 }
        case "ema_50": return { $0.past ? $0.frame.previous?.ema50 : $0.frame.features.ema50 }
        case "rsi_14": return { $0.past ? $0.frame.previous?.rsi14 : $0.frame.features.rsi14 }
        case "macd": return { $0.past ? $0.frame.previous?.macd : $0.frame.features.macd }
        case "macd_signal": return { $0.past ? $0.frame.previous?.macdSignal : $0.frame.features.macdSignal }
        case "macd_hist": return { $0.past ? $0.frame.previous?.macdHist : $0.frame.features.macdHist }
        case "bb_upper": return { $0.past ? $0.frame.previous?.bbUpper : $0.frame.features.bbUpper }
        case "bb_middle": return { $0.past ? $0.frame.previous?.bbMiddle : $0.frame.features.bbMiddle }
        case "bb_lower": return { $0.past ? $0.frame.previous?.bbLower : $0.frame.features.bbLower }
        case "atr_14": return { $0.past ? $0.frame.previous?.atr14 : $0.frame.features.atr14 }
        case "stddev_20": return { $0.past ? $0.frame.previous?.stddev20 : $0.frame.features.stddev20 }
        case "ret_1": return { $0.past ? $0.frame.previous?.ret1 : $0.frame.features.ret1 }
        case "vwap_20": return { $0.past ? $0.frame.previous?.vwap20 : $0.frame.features.vwap20 }
        case "volume_z_20": return { $0.past ? $0.frame.previous?.volumeZ20 : $0.frame.features.volumeZ20 }
        default: return nil
        }
    }
}

/// One part of a parsed rule — a comparison, an `&&`, a feature name… — with the text it was
/// written as and its own evaluation (the closure the rule itself runs), so a part can be
/// evaluated apart from the whole with exactly the rule's semantics.
public struct RuleTerm: Sendable {
    public enum Kind: Sendable, Equatable {
        case or, and, not
        /// `<`, `<=`, `>`, `>=`, `==` or `!=` between the two operands.
        case comparison(String)
        /// `crosses_above(a, b)` (true) or `crosses_below(a, b)`; the operands are the two sides.
        case cross(above: Bool)
        /// A parameterised indicator call (`sma(close,10)`), read from its slot.
        case indicator(IndicatorCall)
        /// `+`, `-`, `*` or `/`.
        case arithmetic(String)
        case negate
        case name(String)
        case number(Double)
    }

    public let kind: Kind
    /// The source text of this part (without enclosing parentheses).
    public let text: String
    public let operands: [RuleTerm]
    let evaluate: @Sendable (RuleInput) -> Double?
    /// The indicator slot an `.indicator` part reads (its evaluation is that slot's value).
    var slot: Int?

    /// This part's value on a bar: 1/0 for conditions, nil when an input is missing.
    public func value(_ input: RuleInput) -> Double? { evaluate(input) }

    /// True when this part holds on a bar (as `RuleExpression.holds` for the whole).
    public func holds(_ input: RuleInput) -> Bool { (evaluate(input) ?? 0) != 0 }

    /// The feature and bar-field names this part reads, in order of first use.
    public var names: [String] {
        var seen: [String] = []
        func walk(_ t: RuleTerm) {
            if case .name(let n) = t.kind, !seen.contains(n) { seen.append(n) }
            t.operands.forEach(walk)
        }
        walk(self)
        return seen
    }
}

struct RuleToken {
    enum Kind: Equatable { case number(Double), name(String), op(String), lparen, rparen, comma }
    let kind: Kind
    let text: String
    let position: Int
}

enum RuleLexer {
    static func tokens(_ source: String) throws(RuleParseError) -> [RuleToken] {
        let chars = Array(source)
        var tokens: [RuleToken] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c == " " || c == "\t" || c == "\n" { i += 1; continue }
            if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
                var j = i
                while j < chars.count, chars[j].isNumber || chars[j] == "." { j += 1 }
                if j < chars.count, chars[j] == "e" || chars[j] == "E" {
                    j += 1
                    if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
                    while j < chars.count, chars[j].isNumber { j += 1 }
                }
                let text = String(chars[i..<j])
                guard let v = Double(text) else { throw RuleParseError(position: column, message: "invalid number \(text)") }
                tokens.append(RuleToken(kind: .number(v), text: text, position: column))
                i = j
            } else if c.isLetter || c == "_" {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                let text = String(chars[i..<j])
                tokens.append(RuleToken(kind: .name(text), text: text, position: column))
                i = j
            } else if c == "(" { tokens.append(RuleToken(kind: .lparen, text: "(", position: column)); i += 1 }
            else if c == ")" { tokens.append(RuleToken(kind: .rparen, text: ")", position: column)); i += 1 }
            else if c == "," { tokens.append(RuleToken(kind: .comma, text: ",", position: column)); i += 1 }
            else {
                let two = i + 1 < chars.count ? String(chars[i...(i + 1)]) : ""
                if ["&&", "||", "<=", ">=", "==", "!="].contains(two) {
                    tokens.append(RuleToken(kind: .op(two), text: two, position: column))
                    i += 2
                } else if "<>!+-*/".contains(c) {
                    tokens.append(RuleToken(kind: .op(String(c)), text: String(c), position: column))
                    i += 1
                } else {
                    throw RuleParseError(position: column, message: "unexpected character \(String(c).debugDescription)")
                }
            }
        }
        return tokens
    }
}

struct RuleParser {
    typealias Node = @Sendable (RuleInput) -> Double?
    let tokens: [RuleToken]
    let source: [Character]
    var index = 0
    /// Parsing recurses once per nesting level (parentheses, `!`, unary `-`) and evaluation once
    /// per node, so both are bounded: without it a rule of a few thousand `(` overflowed the
    /// stack (found by Fuzz/FuzzRules) — a crash from one PUT, or in the pipeline worker.
    static let maxDepth = 32
    static let maxTerms = 256
    private var depth = 0
    private var terms = 0

    /// One nesting level deeper (the caller steps back out when its part parsed).
    private mutating func enter(at position: Int) throws(RuleParseError) {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw RuleParseError(position: position, message: "nested more than \(Self.maxDepth) deep")
        }
    }

    let parameters: [String: Double]
    var plan: IndicatorPlan

    init(tokens: [RuleToken], source: [Character], parameters: [String: Double] = [:], plan: IndicatorPlan = IndicatorPlan()) {
        self.tokens = tokens
        self.source = source
        self.parameters = parameters
        self.plan = plan
    }

    var end: Int { source.count + 1 }
    var peek: RuleToken? { index < tokens.count ? tokens[index] : nil }

    mutating func takeOp(_ ops: [String]) -> String? {
        if let t = peek, case .op(let o) = t.kind, ops.contains(o) { index += 1; return o }
        return nil
    }

    /// The part made of the tokens from `start` up to the current one.
    private func term(_ kind: RuleTerm.Kind, from start: Int, _ operands: [RuleTerm], _ evaluate: @escaping Node) -> RuleTerm {
        let first = tokens[start], last = tokens[index - 1]
        let lower = min(source.count, first.position - 1)
        let upper = max(lower, min(source.count, last.position - 1 + last.text.count))
        return RuleTerm(kind: kind, text: String(source[lower..<upper]), operands: operands, evaluate: evaluate)
    }

    mutating func parseOr() throws(RuleParseError) -> RuleTerm {
        let start = index
        var left = try parseAnd()
        while takeOp(["||"]) != nil {
            let a = left, b = try parseAnd()
            let l = a.evaluate, r = b.evaluate
            left = term(.or, from: start, [a, b]) { ((l($0) ?? 0) != 0 || (r($0) ?? 0) != 0) ? 1 : 0 }
        }
        return left
    }

    mutating func parseAnd() throws(RuleParseError) -> RuleTerm {
        let start = index
        var left = try parseNot()
        while takeOp(["&&"]) != nil {
            let a = left, b = try parseNot()
            let l = a.evaluate, r = b.evaluate
            left = term(.and, from: start, [a, b]) { ((l($0) ?? 0) != 0 && (r($0) ?? 0) != 0) ? 1 : 0 }
        }
        return left
    }

    mutating func parseNot() throws(RuleParseError) -> RuleTerm {
        let start = index
        let at = peek?.position ?? end
        if takeOp(["!"]) != nil {
            try enter(at: at)
            let operand = try parseNot()
            depth -= 1
            let inner = operand.evaluate
            return term(.not, from: start, [operand]) { input in inner(input).map { $0 == 0 ? 1 : 0 } }
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws(RuleParseError) -> RuleTerm {
        let start = index
        let a = try parseAdditive()
        guard let op = takeOp(["<", "<=", ">", ">=", "==", "!="]) else { return a }
        let b = try parseAdditive()
        let compare: @Sendable (Double, Double) -> Bool = switch op {
        case "<": { $0 < $1 }
        case "<=": { $0 <= $1 }
        case ">": { $0 > $1 }
        case ">=": { $0 >= $1 }
        case "==": { $0 == $1 }
        default: { $0 != $1 }
        }
        let left = a.evaluate, right = b.evaluate
        return term(.comparison(op), from: start, [a, b]) { input in
            guard let x = left(input), let y = right(input) else { return nil }
            return compare(x, y) ? 1 : 0
        }
    }

    mutating func parseAdditive() throws(RuleParseError) -> RuleTerm {
        let start = index
        var left = try parseMultiplicative()
        while let op = takeOp(["+", "-"]) {
            let a = left, b = try parseMultiplicative()
            let l = a.evaluate, r = b.evaluate
            let subtract = op == "-"
            left = term(.arithmetic(op), from: start, [a, b]) { (i: RuleInput) -> Double? in
                guard let x = l(i), let y = r(i) else { return nil }
                return subtract ? x - y : x + y
            }
        }
        return left
    }

    mutating func parseMultiplicative() throws(RuleParseError) -> RuleTerm {
        let start = index
        var left = try parseUnary()
        while let op = takeOp(["*", "/"]) {
            let a = left, b = try parseUnary()
            let l = a.evaluate, r = b.evaluate
            let divide = op == "/"
            left = term(.arithmetic(op), from: start, [a, b]) { (i: RuleInput) -> Double? in
                guard let x = l(i), let y = r(i) else { return nil }
                if divide { return y == 0 ? nil : x / y }  // x/0 is missing, not ±inf
                return x * y
            }
        }
        return left
    }

    mutating func parseUnary() throws(RuleParseError) -> RuleTerm {
        let start = index
        let at = peek?.position ?? end
        if takeOp(["-"]) != nil {
            try enter(at: at)
            let operand = try parseUnary()
            depth -= 1
            let inner = operand.evaluate
            return term(.negate, from: start, [operand]) { inner($0).map { -$0 } }
        }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws(RuleParseError) -> RuleTerm {
        guard let token = peek else { throw RuleParseError(position: end, message: "unexpected end of rule") }
        let start = index
        index += 1
        terms += 1
        guard terms <= Self.maxTerms else {
            throw RuleParseError(position: token.position, message: "more than \(Self.maxTerms) terms: split the rule into strategies")
        }
        switch token.kind {
        case .number(let v):
            return term(.number(v), from: start, []) { _ in v }
        case .lparen:
            try enter(at: token.position)
            let inner = try parseOr()
            try expect(.rparen, ")")
            depth -= 1
            return inner
        case .name(let name):
            if let next = peek, case .lparen = next.kind {
                index += 1
                return try call(name, from: start)
            }
            if let value = parameters[name] { return term(.number(value), from: start, []) { _ in value } }
            guard let read = RuleExpression.accessor(name) else {
                let known = RuleExpression.names + parameters.keys.sorted()
                throw RuleParseError(position: token.position, message: "unknown name \(name) (known: \(known.joined(separator: ", ")))")
            }
            return term(.name(name), from: start, []) { read($0) }
        default:
            throw RuleParseError(position: token.position, message: "unexpected \(token.text.debugDescription)")
        }
    }

    private mutating func expect(_ kind: RuleToken.Kind, _ text: String) throws(RuleParseError) {
        guard let t = peek else { throw RuleParseError(position: end, message: "expected \(text)") }
        switch (t.kind, kind) {
        case (.rparen, .rparen), (.comma, .comma): index += 1
        default: throw RuleParseError(position: t.position, message: "expected \(text), found \(t.text.debugDescription)")
        }
    }

    /// crosses_above(a, b): a was ≤ b on the previous bar and is > b now (and the mirror); a
    /// and b are any arithmetic expressions. Otherwise an indicator call (`sma(close,10)`).
    private mutating func call(_ name: String, from start: Int) throws(RuleParseError) -> RuleTerm {
        let position = tokens[start].position
        if name == "crosses_above" || name == "crosses_below" {
            let a = try parseAdditive()
            try expect(.comma, ",")
            let b = try parseAdditive()
            try expect(.rparen, ")")
            let readA = a.evaluate, readB = b.evaluate
            let above = name == "crosses_above"
            if let sa = a.slot, let sb = b.slot {
                // Two indicator calls (the usual moving-average cross): the four slot reads of
                // the general form below, straight from the table.
                return term(.cross(above: above), from: start, [a, b]) { input in
                    guard !input.past, input.frame.hasPrevious else { return nil }
                    let t = input.frame.slots
                    guard sa < t.count, sb < t.count, let a0 = t.previous[sa], let b0 = t.previous[sb],
                          let a1 = t.current[sa], let b1 = t.current[sb] else { return nil }
                    return (above ? (a0 <= b0 && a1 > b1) : (a0 >= b0 && a1 < b1)) ? 1 : 0
                }
            }
            return term(.cross(above: above), from: start, [a, b]) { input in
                guard let before = input.before,
                      let a0 = readA(before), let b0 = readB(before), let a1 = readA(input), let b1 = readB(input) else { return nil }
                return (above ? (a0 <= b0 && a1 > b1) : (a0 >= b0 && a1 < b1)) ? 1 : 0
            }
        }
        guard IndicatorCall.Function(rawValue: name) != nil else {
            let functions = ["crosses_above", "crosses_below"] + IndicatorCall.Function.allCases.map(\.rawValue)
            throw RuleParseError(position: position, message: "unknown function \(name) (known: \(functions.joined(separator: ", ")))")
        }
        // Arguments: bar fields, numbers (a leading - allowed) and the strategy's parameters.
        var arguments: [IndicatorArgument] = []
        var positions: [Int] = []
        if let t = peek, case .rparen = t.kind {
            index += 1
        } else {
            while true {
                guard let t = peek else { throw RuleParseError(position: end, message: "expected an argument of \(name)") }
                positions.append(t.position)
                index += 1
                switch t.kind {
                case .number(let v): arguments.append(.number(v))
                case .name(let n): arguments.append(parameters[n].map(IndicatorArgument.number) ?? .field(n))
                default: throw RuleParseError(position: t.position, message: "expected a bar field, a number or a parameter, found \(t.text.debugDescription)")
                }
                guard let separator = peek else { throw RuleParseError(position: end, message: "expected , or )") }
                if case .comma = separator.kind { index += 1; continue }
                try expect(.rparen, ")")
                break
            }
        }
        let call: IndicatorCall
        do {
            call = try IndicatorCall(name, arguments)
        } catch {
            let at = error.argument.map { $0 < positions.count ? positions[$0] : position } ?? position
            throw RuleParseError(position: at, message: error.message)
        }
        let slot = plan.slot(for: call)
        var t = term(.indicator(call), from: start, []) { $0.value(slot) }
        t.slot = slot
        return t
    }
}
