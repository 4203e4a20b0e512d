/// HTTP-date (RFC 9110 §5.6.7) for static responses, kept here so the static files code has no
/// dependency on the HTTP module: formats IMF-fixdate, parses all three accepted forms.
enum StaticDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longWeekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// "Sun, 06 Nov 1994 08:49:37 GMT" for Unix seconds.
    static func format(_ unixSeconds: Int64) -> String {
        let (days, second) = floorDivide(unixSeconds, 86_400)
        let (year, month, day) = civil(days)
        let weekday = weekdays[Int(floorDivide(days + 4, 7).1)]  // 1970-01-01 was a Thursday
        return "\(weekday), \(pad(day)) \(months[Int(month) - 1]) \(pad(year, 4)) "
            + "\(pad(second / 3600)):\(pad(second % 3600 / 60)):\(pad(second % 60)) GMT"
    }

    /// Unix seconds from IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), obsolete RFC 850
    /// ("Sunday, 06-Nov-94 08:49:37 GMT", years 70–99 → 19xx, 00–69 → 20xx) or asctime
    /// ("Sun Nov  6 08:49:37 1994"); nil for anything else, including lists.
    static func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        switch parts.count {
        case 6:  // IMF-fixdate
            guard parts[0].hasSuffix(","), weekdays.contains(String(parts[0].dropLast())), parts[5] == "GMT",
                  parts[1].count == 2, parts[3].count == 4,
                  let day = number(parts[1]), let year = number(parts[3]) else { return nil }
            return compose(year: year, month: parts[2], day: day, clock: parts[4])
        case 4:  // RFC 850
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard parts[0].hasSuffix(","), longWeekdays.contains(String(parts[0].dropLast())), parts[3] == "GMT",
                  date.count == 3, date[0].count == 2, date[2].count == 2,
                  let day = number(date[0]), let yy = number(date[2]) else { return nil }
            return compose(year: yy < 70 ? 2000 + yy : 1900 + yy, month: date[1], day: day, clock: parts[2])
        case 5:  // asctime: the day is space-padded, which split() absorbs
            guard weekdays.contains(String(parts[0])), parts[2].count <= 2, parts[4].count == 4,
                  text.utf8.count == 24, let day = number(parts[2]), let year = number(parts[4]) else { return nil }
            return compose(year: year, month: parts[1], day: day, clock: parts[3])
        default:
            return nil
        }
    }

    private static func compose(year: Int64, month: Substring, day: Int64, clock: Substring) -> Int64? {
        let hms = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard let monthIndex = months.firstIndex(of: String(month)), hms.count == 3, hms.allSatisfy({ $0.count == 2 }),
              let h = number(hms[0]), let m = number(hms[1]), let s = number(hms[2]),
              h < 24, m < 60, s < 61, day >= 1, day <= daysIn(month: Int64(monthIndex + 1), year: year) else {
            return nil
        }
        return days(year, Int64(monthIndex + 1), day) * 86_400 + h * 3600 + m * 60 + s
    }

    private static func number(_ digits: Substring) -> Int64? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(digits)
    }

    private static func pad(_ n: Int64, _ width: Int = 2) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a >= 0 ? a / b : (a - b + 1) / b
        return (q, a - q * b)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        if month == 2 { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28 }
        return [4, 6, 9, 11].contains(month) ? 30 : 31
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, day 0 = 1970-01-01).
    private static func days(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDivide(y, 400).0
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDivide(z, 146_097).0
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
