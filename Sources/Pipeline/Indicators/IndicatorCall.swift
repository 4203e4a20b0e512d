import Contracts

/// A bar field an indicator reads (`x` in `sma(x, n)`).
public enum BarField: String, CaseIterable, Sendable {
    case open, high, low, close, volume, vwap

    @inline(__always)
    func read(_ bar: BarValues) -> Double {
        switch self {
        case .open: bar.open
        case .high: bar.high
        case .low: bar.low
        case .close: bar.close
        case .volume: bar.volume
        case .vwap: bar.vwap
        }
    }
}

/// One argument of a call as written: a bar field, or a number (a literal, or a strategy
/// parameter already replaced by its value).
public enum IndicatorArgument: Sendable, Equatable {
    case field(String)
    case number(Double)
}

/// Why a call is refused: which argument (0-based; nil for the call as a whole) and why.
public struct IndicatorCallError: Error, Sendable, Equatable {
    public let argument: Int?
    public let message: String
}

/// A parameterised indicator call such as `sma(close,10)` or `macd_signal(close,12,26,9)`,
/// checked: the function exists, the arguments are of the right kinds and in range (periods
/// 1…10,000, or TA-Lib's own minimum where it has one; factors > 0). Two calls with the same
/// canonical text are the same series; calls that differ only in the output they pick
/// (`macd` / `macd_signal` / `macd_hist`, the three bands) share one `instance`.
public struct IndicatorCall: Hashable, Sendable, CustomStringConvertible {
    public enum Function: String, CaseIterable, Sendable {
        case sma, ema, wma, rsi, macd, macd_signal, macd_hist, bb_upper, bb_middle, bb_lower, stddev, atr, willr, obv
        case roc, mom, highest, lowest, vwap, zscore, prev, adx, cci, mfi, stoch_k, stoch_d

        /// The argument kinds: `x` a bar field, `n` a period, `k` a positive factor.
        var signature: [Character] {
            switch self {
            case .sma, .ema, .wma, .rsi, .stddev, .roc, .mom, .highest, .lowest, .zscore: ["x", "n"]
            case .prev: ["x", "k"]
            case .macd, .macd_signal, .macd_hist: ["x", "n", "n", "n"]
            case .bb_upper, .bb_middle, .bb_lower: ["x", "n", "f"]
            case .atr, .willr, .vwap, .adx, .cci, .mfi: ["n"]
            case .stoch_k, .stoch_d: ["n", "n", "n"]
            case .obv: []
            }
        }

        /// What the arguments are called in messages.
        var argumentNames: [String] {
            switch self {
            case .macd, .macd_signal, .macd_hist: ["x", "fast", "slow", "signal"]
            case .bb_upper, .bb_middle, .bb_lower: ["x", "n", "k"]
            case .prev: ["x", "k"]
            case .stoch_k, .stoch_d: ["n", "k", "d"]
            default: signature.map { String($0) }
            }
        }

        /// TA-Lib's smallest period where it is above 1 (a period of 1 is refused there too).
        var minimumPeriod: Int {
            switch self {
            case .mom, .roc, .atr, .vwap, .prev, .stoch_k, .stoch_d: 1
            default: 2
            }
        }

        /// The call's form for messages: `sma(x, n)`.
        public var usage: String { "\(rawValue)(\(argumentNames.joined(separator: ", ")))" }
    }

    public static let maxPeriod = 10_000

    public let function: Function
    public let field: BarField?
    public let periods: [Int]
    public let factor: Double?

    public init(_ name: String, _ arguments: [IndicatorArgument]) throws(IndicatorCallError) {
        guard let function = Function(rawValue: name) else {
            throw IndicatorCallError(argument: nil, message: "unknown function \(name)")
        }
        let signature = function.signature
        guard arguments.count == signature.count else {
            throw IndicatorCallError(argument: arguments.count > signature.count ? signature.count : nil,
                                     message: "\(function.usage) takes \(signature.count) argument\(signature.count == 1 ? "" : "s"), got \(arguments.count)")
        }
        var field: BarField?
        var periods: [Int] = []
        var factor: Double?
        for (i, (kind, argument)) in zip(signature, arguments).enumerated() {
            let name = function.argumentNames[i]
            switch (kind, argument) {
            case ("x", .field(let text)):
                guard let f = BarField(rawValue: text) else {
                    throw IndicatorCallError(argument: i, message: "\(name) must be a bar field (\(BarField.allCases.map(\.rawValue).joined(separator: ", "))), got \(text)")
                }
                field = f
            case ("x", .number):
                throw IndicatorCallError(argument: i, message: "\(name) must be a bar field (\(BarField.allCases.map(\.rawValue).joined(separator: ", ")))")
            case ("n", .number(let v)), ("k", .number(let v)):
                let minimum = function.minimumPeriod
                guard v == v.rounded(), v >= Double(minimum), v <= Double(Self.maxPeriod) else {
                    throw IndicatorCallError(argument: i, message: "\(name) must be a whole number from \(minimum) to \(Self.maxPeriod), got \(Self.text(v))")
                }
                periods.append(Int(v))
            case ("f", .number(let v)):
                guard v > 0, v.isFinite else {
                    throw IndicatorCallError(argument: i, message: "\(name) must be a number > 0, got \(Self.text(v))")
                }
                factor = v
            default:
                throw IndicatorCallError(argument: i, message: "\(name) must be a number")
            }
        }
        self.function = function
        self.field = field
        self.periods = periods
        self.factor = factor
    }

    private init(function: Function, field: BarField?, periods: [Int], factor: Double?) {
        self.function = function
        self.field = field
        self.periods = periods
        self.factor = factor
    }

    private static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }

    /// The canonical text: `sma(close,10)`, `bb_upper(close,20,2)`.
    public var description: String {
        var parts: [String] = []
        if let field { parts.append(field.rawValue) }
        parts += periods.map(String.init)
        if let factor { parts.append(Self.text(factor)) }
        return "\(function.rawValue)(\(parts.joined(separator: ",")))"
    }

    /// The call whose instance computes this one (`macd_signal(…)` → `macd(…)`), and which of its
    /// outputs this call reads (0, 1, 2).
    public var instance: (call: IndicatorCall, output: Int) {
        switch function {
        case .macd: (self, 0)
        case .macd_signal: (IndicatorCall(function: .macd, field: field, periods: periods, factor: factor), 1)
        case .macd_hist: (IndicatorCall(function: .macd, field: field, periods: periods, factor: factor), 2)
        case .bb_upper: (self, 0)
        case .bb_middle: (IndicatorCall(function: .bb_upper, field: field, periods: periods, factor: factor), 1)
        case .bb_lower: (IndicatorCall(function: .bb_upper, field: field, periods: periods, factor: factor), 2)
        case .stoch_d: (IndicatorCall(function: .stoch_k, field: field, periods: periods, factor: factor), 1)
        default: (self, 0)
        }
    }
}

/// The state of one indicator instance: O(1) (amortised) work per bar, a fixed ring each.
public enum IndicatorState: Sendable {
    case sma(SMA, BarField)
    case ema(EMA, BarField)
    case wma(WMA, BarField)
    case rsi(RSI, BarField)
    case macd(MACD, BarField)
    case bands(BollingerBands, BarField)
    case stddev(StdDev, BarField)
    case atr(ATR)
    case willr(WilliamsR)
    case obv(OnBalanceVolume)
    case roc(RateOfChange, BarField)
    case mom(Momentum, BarField)
    case extreme(RollingExtreme, BarField)
    case vwap(RollingVWAP)
    case zscore(ZScore, BarField)
    case lag(Lag, BarField)
    case stoch(Stochastic)
    case adx(AverageDirectionalIndex)
    case mfi(MoneyFlowIndex)
    case cci(CommodityChannelIndex)

    /// A fresh instance for an instance call (see `IndicatorCall.instance`).
    public init(_ call: IndicatorCall) {
        let x = call.field ?? .close
        let n = call.periods.first ?? 1
        switch call.function {
        case .sma: self = .sma(SMA(period: n), x)
        case .ema: self = .ema(EMA(period: n), x)
        case .wma: self = .wma(WMA(period: n), x)
        case .rsi: self = .rsi(RSI(period: n), x)
        case .macd, .macd_signal, .macd_hist:
            // TA-Lib swaps a slow period shorter than the fast one.
            let (f, s) = (min(call.periods[0], call.periods[1]), max(call.periods[0], call.periods[1]))
            self = .macd(MACD(fast: f, slow: s, signal: call.periods[2]), x)
        case .bb_upper, .bb_middle, .bb_lower:
            self = .bands(BollingerBands(period: n, up: call.factor ?? 2, down: call.factor ?? 2), x)
        case .stddev: self = .stddev(StdDev(period: n), x)
        case .atr: self = .atr(ATR(period: n))
        case .willr: self = .willr(WilliamsR(period: n))
        case .obv: self = .obv(OnBalanceVolume())
        case .roc: self = .roc(RateOfChange(period: n), x)
        case .mom: self = .mom(Momentum(period: n), x)
        case .highest: self = .extreme(RollingExtreme(period: n, highest: true), x)
        case .lowest: self = .extreme(RollingExtreme(period: n, highest: false), x)
        case .vwap: self = .vwap(RollingVWAP(period: n))
        case .zscore: self = .zscore(ZScore(period: n), x)
        case .prev: self = .lag(Lag(k: n), x)
        case .stoch_k, .stoch_d: self = .stoch(Stochastic(period: n, k: call.periods[1], d: call.periods[2]))
        case .adx: self = .adx(AverageDirectionalIndex(period: n))
        case .mfi: self = .mfi(MoneyFlowIndex(period: n))
        case .cci: self = .cci(CommodityChannelIndex(period: n))
        }
    }
}

/// One instance of a symbol's indicator bank, updated in place: its indicator lives in the
/// closures' shared box, so a bar's update mutates the rings where they are (no enum payload
/// moved out and back per bar). `state` snapshots it as a value (checkpoints, warm-up reports).
public final class IndicatorRunner {
    /// One closed bar in; up to three outputs out (MACD: line, signal, histogram; bands: upper,
    /// middle, lower; everything else: the first). Allocates nothing.
    let step: (BarValues) -> (Double?, Double?, Double?)
    public let state: () -> IndicatorState

    private init(update: @escaping (BarValues) -> (Double?, Double?, Double?), state: @escaping () -> IndicatorState) {
        self.step = update
        self.state = state
    }

    @inline(__always)
    public func update(_ bar: BarValues) -> (Double?, Double?, Double?) { step(bar) }
    public func update(_ bar: Bar) -> (Double?, Double?, Double?) { step(BarValues(bar)) }

    public convenience init(_ initial: IndicatorState) {
        switch initial {
        case .sma(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .sma(s, x) })
        case .ema(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .ema(s, x) })
        case .wma(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .wma(s, x) })
        case .rsi(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .rsi(s, x) })
        case .macd(var s, let x):
            self.init(update: { bar in
                guard let v = s.update(x.read(bar)) else { return (nil, nil, nil) }
                return (v.macd, v.signal, v.histogram)
            }, state: { .macd(s, x) })
        case .bands(var s, let x):
            self.init(update: { bar in
                guard let v = s.update(x.read(bar)) else { return (nil, nil, nil) }
                return (v.upper, v.middle, v.lower)
            }, state: { .bands(s, x) })
        case .stddev(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .stddev(s, x) })
        case .atr(var s):
            self.init(update: { (s.update(high: $0.high, low: $0.low, close: $0.close), nil, nil) }, state: { .atr(s) })
        case .willr(var s):
            self.init(update: { (s.update(high: $0.high, low: $0.low, close: $0.close), nil, nil) }, state: { .willr(s) })
        case .obv(var s): self.init(update: { (s.update(close: $0.close, volume: $0.volume), nil, nil) }, state: { .obv(s) })
        case .roc(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .roc(s, x) })
        case .mom(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .mom(s, x) })
        case .extreme(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .extreme(s, x) })
        case .vwap(var s): self.init(update: { (s.update(vwap: $0.vwap, volume: $0.volume), nil, nil) }, state: { .vwap(s) })
        case .zscore(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .zscore(s, x) })
        case .lag(var s, let x): self.init(update: { (s.update(x.read($0)), nil, nil) }, state: { .lag(s, x) })
        case .stoch(var s):
            self.init(update: { bar in
                let v = s.update(high: bar.high, low: bar.low, close: bar.close)
                return (v?.k, v?.d, nil)
            }, state: { .stoch(s) })
        case .adx(var s):
            self.init(update: { (s.update(high: $0.high, low: $0.low, close: $0.close), nil, nil) }, state: { .adx(s) })
        case .mfi(var s):
            self.init(update: { (s.update(high: $0.high, low: $0.low, close: $0.close, volume: $0.volume), nil, nil) },
                      state: { .mfi(s) })
        case .cci(var s):
            self.init(update: { (s.update(high: $0.high, low: $0.low, close: $0.close), nil, nil) }, state: { .cci(s) })
        }
    }

    /// A fresh instance for an instance call (see `IndicatorCall.instance`).
    public convenience init(_ call: IndicatorCall) { self.init(IndicatorState(call)) }

    /// An independent copy (its rings are shared until either side writes).
    public func copy() -> IndicatorRunner { IndicatorRunner(state()) }
}
