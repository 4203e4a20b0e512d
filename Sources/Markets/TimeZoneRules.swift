import Contracts

/// A time zone's UTC offsets from the system's tz database: a TZif file (RFC 8536) as zic writes
/// it to `/usr/share/zoneinfo` — its transitions, then its POSIX TZ footer for times after the
/// last one. Nothing here hand-rolls an offset: every figure comes from the file.
public struct TimeZoneRules: Sendable, Equatable {
    public let name: String
    /// UTC seconds at which the offset changes, ascending, and the offset (seconds east of UTC)
    /// from each one on.
    let transitions: [Int64]
    let offsets: [Int32]
    /// The offset before the first transition.
    let initialOffset: Int32
    /// The rule after the last transition (`EST5EDT,M3.2.0,M11.1.0`), when the file has one.
    let footer: PosixTimeZone?

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Parses a TZif file (version 1, or 2+ using its 64-bit data and footer).
    public init(name: String, tzif bytes: [UInt8]) throws(Failure) {
        var r = ByteCursor(bytes)
        func header() throws(Failure) -> (version: UInt8, counts: [Int]) {
            guard r.take(4) == Array("TZif".utf8) else { throw Failure(message: "\(name): not a TZif file") }
            guard let version = r.byte(), r.skip(15) else { throw Failure(message: "\(name): truncated TZif header") }
            var counts: [Int] = []
            for _ in 0..<6 {
                guard let c = r.uint32() else { throw Failure(message: "\(name): truncated TZif header") }
                counts.append(Int(c))
            }
            return (version, counts)
        }
        let first = try header()
        // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        func block(_ counts: [Int], timeSize: Int) throws(Failure) -> (times: [Int64], indices: [Int], offsets: [Int32]) {
            let (isut, isstd, leap, timecnt, typecnt, charcnt) = (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5])
            guard typecnt >= 1, typecnt <= 256, timecnt <= 100_000 else { throw Failure(message: "\(name): bad TZif counts") }
            var times: [Int64] = []
            for _ in 0..<timecnt {
                guard let t = timeSize == 8 ? r.int64() : r.uint32().map({ Int64(Int32(bitPattern: $0)) }) else {
                    throw Failure(message: "\(name): truncated transitions")
                }
                times.append(t)
            }
            var indices: [Int] = []
            for _ in 0..<timecnt {
                guard let i = r.byte(), Int(i) < typecnt else { throw Failure(message: "\(name): bad transition type") }
                indices.append(Int(i))
            }
            var offsets: [Int32] = []
            for _ in 0..<typecnt {
                guard let off = r.uint32(), r.skip(2) else { throw Failure(message: "\(name): truncated local time types") }
                offsets.append(Int32(bitPattern: off))
            }
            guard r.skip(charcnt + leap * (timeSize + 4) + isstd + isut) else { throw Failure(message: "\(name): truncated TZif data") }
            return (times, indices, offsets)
        }
        var data = try block(first.counts, timeSize: 4)
        var footer: PosixTimeZone?
        if first.version >= UInt8(ascii: "2") {
            let second = try header()
            data = try block(second.counts, timeSize: 8)
            // The footer: "\n" TZ-string "\n".
            if r.byte() == 10, let end = r.rest.firstIndex(of: 10) {
                let text = String(decoding: r.rest[..<end], as: UTF8.self)
                if !text.isEmpty {
                    do {
                        footer = try PosixTimeZone(text)
                    } catch {
                        throw Failure(message: "\(name): footer \(text.debugDescription): \(error.message)")
                    }
                }
            }
        }
        self.name = name
        transitions = data.times
        offsets = data.indices.map { data.offsets[$0] }
        // RFC 8536 §3.2: before the first transition, local time type 0.
        initialOffset = data.offsets[0]
        self.footer = footer
        guard zip(transitions, transitions.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw Failure(message: "\(name): transitions out of order")
        }
    }

    /// A fixed offset (UTC, or a venue declared with one).
    public init(name: String, fixedOffsetSeconds: Int32) {
        self.name = name
        transitions = []
        offsets = []
        initialOffset = fixedOffsetSeconds
        footer = nil
    }

    public static let utc = TimeZoneRules(name: "UTC", fixedOffsetSeconds: 0)

    /// Seconds east of UTC in force at `utc` (seconds since the epoch).
    public func offset(atUTC utc: Int64) -> Int64 {
        guard let last = transitions.last else { return footer?.offset(atUTC: utc) ?? Int64(initialOffset) }
        if utc >= last, let footer { return footer.offset(atUTC: utc) }
        // The last transition at or before `utc`.
        var lo = 0, hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if transitions[mid] <= utc { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? Int64(initialOffset) : Int64(offsets[lo - 1])
    }

    /// The UTC instant of a local wall-clock time (seconds since the epoch as if local were UTC).
    /// A time skipped by a change (spring forward) is read with the offset before it; a time that
    /// occurs twice (fall back) is the first occurrence.
    public func utc(fromLocal local: Int64) -> Int64 {
        let before = offset(atUTC: local - 86_400)
        let after = offset(atUTC: local + 86_400)
        // Either offset that maps back to this wall time, the earlier instant first.
        let candidates = [local - max(before, after), local - min(before, after)]
        for u in candidates where u + offset(atUTC: u) == local { return u }
        return local - before
    }
}

/// A POSIX TZ rule as TZif footers hold it: `std offset [dst [offset] [,start[/time],end[/time]]]`,
/// with names plain (`EST`) or quoted (`<+0545>`), and dates `Mm.w.d`, `Jn` or `n`.
struct PosixTimeZone: Sendable, Equatable {
    let standardOffset: Int64    // seconds east of UTC
    let daylightOffset: Int64?
    let start: Rule?
    let end: Rule?

    struct Rule: Sendable, Equatable {
        enum Day: Sendable, Equatable {
            case monthWeekDay(month: Int64, week: Int64, weekday: Int64)
            case julianNoLeap(Int64)   // Jn: 1...365, February 29 never counted
            case zeroBased(Int64)      // n: 0...365
        }
        let day: Day
        /// Local time of day of the change, seconds (may be negative or past 24 h).
        let time: Int64
    }

    struct Failure: Error { let message: String }

    init(_ text: String) throws(Failure) {
        var s = Substring(text)
        func name() throws(Failure) {
            if s.first == "<" {
                guard let close = s.firstIndex(of: ">") else { throw Failure(message: "unclosed <") }
                s = s[s.index(after: close)...]
            } else {
                let n = s.prefix { $0.isLetter }
                guard n.count >= 3 else { throw Failure(message: "zone abbreviation too short") }
                s = s.dropFirst(n.count)
            }
        }
        /// [+|-]hh[:mm[:ss]] → seconds.
        func clock(signed: Bool) throws(Failure) -> Int64 {
            var sign: Int64 = 1
            if signed, let c = s.first, c == "+" || c == "-" {
                sign = c == "-" ? -1 : 1
                s = s.dropFirst()
            }
            var parts: [Int64] = []
            repeat {
                if !parts.isEmpty { s = s.dropFirst() }  // the ':'
                let digits = s.prefix { $0.isASCII && $0.isNumber }
                guard !digits.isEmpty, digits.count <= 3, let v = Int64(digits) else { throw Failure(message: "bad time") }
                parts.append(v)
                s = s.dropFirst(digits.count)
            } while parts.count < 3 && s.first == ":"
            let seconds = parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0)
            return sign * seconds
        }
        func rule() throws(Failure) -> Rule {
            let day: Rule.Day
            if s.first == "M" {
                s = s.dropFirst()
                var v: [Int64] = []
                for k in 0..<3 {
                    if k > 0 {
                        guard s.first == "." else { throw Failure(message: "bad Mm.w.d") }
                        s = s.dropFirst()
                    }
                    let digits = s.prefix { $0.isASCII && $0.isNumber }
                    guard let n = Int64(digits) else { throw Failure(message: "bad Mm.w.d") }
                    v.append(n)
                    s = s.dropFirst(digits.count)
                }
                guard (1...12).contains(v[0]), (1...5).contains(v[1]), (0...6).contains(v[2]) else { throw Failure(message: "bad Mm.w.d") }
                day = .monthWeekDay(month: v[0], week: v[1], weekday: v[2])
            } else {
                let julian = s.first == "J"
                if julian { s = s.dropFirst() }
                let digits = s.prefix { $0.isASCII && $0.isNumber }
                guard let n = Int64(digits) else { throw Failure(message: "bad rule date") }
                s = s.dropFirst(digits.count)
                guard julian ? (1...365).contains(n) : (0...365).contains(n) else { throw Failure(message: "bad rule date") }
                day = julian ? .julianNoLeap(n) : .zeroBased(n)
            }
            var time: Int64 = 7200
            if s.first == "/" {
                s = s.dropFirst()
                time = try clock(signed: true)
            }
            return Rule(day: day, time: time)
        }
        try name()
        // POSIX offsets are hours *west* of UTC.
        standardOffset = -(try clock(signed: true))
        guard !s.isEmpty else {
            daylightOffset = nil
            start = nil
            end = nil
            return
        }
        try name()
        var dst = standardOffset + 3600
        if let c = s.first, c != "," { dst = -(try clock(signed: true)) }
        daylightOffset = dst
        guard s.first == "," else { throw Failure(message: "daylight time without rules") }
        s = s.dropFirst()
        start = try rule()
        guard s.first == "," else { throw Failure(message: "missing end rule") }
        s = s.dropFirst()
        end = try rule()
        guard s.isEmpty else { throw Failure(message: "trailing \(String(s).debugDescription)") }
    }

    func offset(atUTC utc: Int64) -> Int64 {
        guard let dst = daylightOffset, let start, let end else { return standardOffset }
        let year = CivilDate.civil(CivilDate.floorDivide(utc + standardOffset, 86_400).quotient).year
        // The changes of this year and its neighbours, as UTC instants: daylight time begins at
        // `start` local standard time and ends at `end` local daylight time.
        for y in [year - 1, year, year + 1].reversed() {
            let on = Self.localSeconds(start, year: y) - standardOffset
            let off = Self.localSeconds(end, year: y) - dst
            if on < off {
                // Northern hemisphere: daylight between on and off of the same year.
                if utc >= off { return standardOffset }
                if utc >= on { return dst }
            } else {
                // Southern: daylight from `on` to the next year's `off`.
                if utc >= on { return dst }
                if utc >= off { return standardOffset }
            }
        }
        return standardOffset
    }

    /// Local seconds since the epoch of a rule's change in `year`.
    static func localSeconds(_ rule: Rule, year: Int64) -> Int64 {
        let day: Int64
        switch rule.day {
        case .monthWeekDay(let month, let week, let weekday):
            let first = CivilDate.days(year, month, 1)
            // 1970-01-01 was a Thursday (weekday 4).
            let firstWeekday = CivilDate.floorDivide(first + 4, 7).remainder
            var d = first + CivilDate.floorDivide(weekday - firstWeekday, 7).remainder + (week - 1) * 7
            let length = CivilDate.daysIn(month: month, year: year)
            while d >= first + length { d -= 7 }  // week 5: the last such weekday
            day = d
        case .julianNoLeap(let n):
            let leap = CivilDate.daysIn(month: 2, year: year) == 29
            day = CivilDate.days(year, 1, 1) + n - 1 + (leap && n >= 60 ? 1 : 0)
        case .zeroBased(let n):
            day = CivilDate.days(year, 1, 1) + n
        }
        return day * 86_400 + rule.time
    }
}

/// Big-endian reads over bytes, nil past the end.
struct ByteCursor {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var rest: ArraySlice<UInt8> { bytes[min(position, bytes.count)...] }

    mutating func byte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func take(_ n: Int) -> [UInt8]? {
        guard n >= 0, position + n <= bytes.count else { return nil }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, position + n <= bytes.count else { return false }
        position += n
        return true
    }

    mutating func uint32() -> UInt32? {
        guard let b = take(4) else { return nil }
        return b.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func int64() -> Int64? {
        guard let b = take(8) else { return nil }
        return Int64(bitPattern: b.reduce(0) { $0 << 8 | UInt64($1) })
    }
}
