import Glibc

/// ISO-8601 / RFC 3339 date-times → Unix milliseconds, without Foundation.
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`, `T` or a space between date and
/// time. A time without an offset is refused: silently assuming a zone would shift the data.
public enum Timestamp {
    public static func parseISO8601(_ s: UnsafeBufferPointer<UInt8>) -> Result<Int64, TickFieldError> {
        func fail(_ why: String) -> Result<Int64, TickFieldError> {
            .failure(TickFieldError(field: "ts", message: "\(why) (expected ISO-8601 like 2024-11-25T09:30:00.123+08:00, or epoch milliseconds)"))
        }
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= s.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                let c = s[k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < s.count, s[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2) else {
            return fail("bad date")
        }
        guard i < s.count, s[i] == UInt8(ascii: "T") || s[i] == UInt8(ascii: "t") || s[i] == 32 else {
            return fail("missing time")
        }
        i += 1
        guard let hour = digits(2), expect(58), let minute = digits(2), expect(58), let second = digits(2) else {
            return fail("bad time")
        }
        guard (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61 else {
            return fail("date or time out of range")
        }
        var millis: Int64 = 0
        if i < s.count, s[i] == UInt8(ascii: ".") || s[i] == UInt8(ascii: ",") {
            i += 1
            var scale: Int64 = 100
            var count = 0
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                millis += Int64(s[i] - 48) * scale
                scale /= 10
                count += 1
                i += 1
            }
            guard count > 0, count <= 9 else { return fail("bad fraction of a second") }
        }
        guard i < s.count else { return fail("missing UTC offset (Z or ±HH:MM)") }
        var offsetMinutes: Int64 = 0
        if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
            i += 1
        } else if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            let sign: Int64 = s[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return fail("bad UTC offset") }
            _ = expect(58)
            guard let om = digits(2), oh < 24, om < 60 else { return fail("bad UTC offset") }
            offsetMinutes = sign * (oh * 60 + om)
        } else {
            return fail("missing UTC offset (Z or ±HH:MM)")
        }
        guard i == s.count else { return fail("trailing characters") }
        let days = CivilDate.days(year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        return .success(seconds * 1000 + millis)
    }

    public static func parseISO8601(_ text: String) -> Result<Int64, TickFieldError> {
        var copy = text
        return copy.withUTF8 { parseISO8601($0) }
    }
}

/// The one wall-clock reading: milliseconds since the Unix epoch (CLOCK_REALTIME). Event
/// times, heartbeats and the live feed's pacing all use it.
public enum WallClock {
    public static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
