import Contracts

/// HTTP-date (RFC 9110 §5.6.7) without Foundation: formats IMF-fixdate, parses all three forms a
/// recipient must accept.
public enum HTTPDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longWeekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// "Sun, 06 Nov 1994 08:49:37 GMT" for Unix seconds.
    public static func format(unixSeconds: Int64) -> String {
        let (days, second) = CivilDate.floorDivide(unixSeconds, 86_400)
        let (year, month, day) = CivilDate.civil(days)
        let weekday = weekdays[Int(CivilDate.floorDivide(days + 4, 7).remainder)]  // 1970-01-01 was a Thursday
        return "\(weekday), \(pad(day)) \(months[Int(month) - 1]) \(pad(year, 4)) "
            + "\(pad(second / 3600)):\(pad(second % 3600 / 60)):\(pad(second % 60)) GMT"
    }

    /// Unix seconds from IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), obsolete RFC 850
    /// ("Sunday, 06-Nov-94 08:49:37 GMT", years 70–99 → 19xx, 00–69 → 20xx) or asctime
    /// ("Sun Nov  6 08:49:37 1994"); nil for anything else, including lists.
    public static func parse(_ text: String) -> Int64? {
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
              h < 24, m < 60, s < 61, day >= 1, day <= CivilDate.daysIn(month: Int64(monthIndex + 1), year: year) else {
            return nil
        }
        return CivilDate.days(year, Int64(monthIndex + 1), day) * 86_400 + h * 3600 + m * 60 + s
    }

    private static func number(_ digits: Substring) -> Int64? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(digits)
    }

    private static func pad(_ n: Int64, _ width: Int = 2) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
