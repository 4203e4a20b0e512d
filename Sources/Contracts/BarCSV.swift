import Glibc

/// What an OHLCV file held: its bars in file order, the rows it refused, or why the whole
/// document could not be read.
public struct BarDecodeResult: Sendable {
    public var bars: [Bar] = []
    public var rejected: [TickRejection] = []
    public var documentError: String?
    /// Data rows read so far (accepted and rejected).
    public var rows = 0
    public init() {}

    /// The rejections of the next part of the file, which starts after `linesBefore` line feeds of
    /// the file (numbered by file line and by row); its bars were emitted into `bars`.
    public mutating func append(_ part: BarDecodePart, linesBefore: Int) {
        for (row, line, e) in part.problems {
            // A row that does not split into the header's columns has no field at fault.
            rejected.append(TickRejection(index: rows + row, field: e.field.isEmpty ? nil : e.field,
                                          message: "line \(line + linesBefore): \(e.message)"))
        }
        rows += part.rows
    }
}

/// One part of an OHLCV file (`BarCSV.decodeRows`), with line numbers counted from its start.
public struct BarDecodePart: Sendable {
    var problems: [(row: Int, line: Int, error: TickFieldError)] = []
    var rows = 0
    /// Line feeds in the part.
    public internal(set) var lines = 0
    public init() {}
}

/// OHLCV bars as data vendors and pandas export them (docs/RESEARCH.md, "Input"):
/// `Date,Open,High,Low,Close,Volume` in any order and any letter case, an optional symbol column,
/// other columns (`Adj Close`, `amount`…) ignored.
///
/// - Time column: `date`, `datetime`, `time`, `timestamp`, `ts` or `trade_date`. Values: a date
///   (`2024-01-02`, `2024/01/02`, `20240102`), a date and time (`2024-01-02 09:30[:00[.123]]`,
///   `T` or a space) with or without a zone (`Z`, `±HH:MM`, `±HHMM`), or epoch seconds or
///   milliseconds. A value without a zone is read at `utcOffsetMinutes` (0: UTC).
/// - Symbol column: `symbol`, `ticker`, `code` or `ts_code`; without one every row is `symbol`.
/// - Volume column: `volume` or `vol`; without one, volume is 0. An optional `vwap` column; without
///   it a bar's vwap is its typical price (high + low + close) / 3.
/// - A row is refused (with its line and column) when a price is missing, not a positive number,
///   or inconsistent (high below the open, close or low; low above them), or volume is negative.
public enum BarCSV {
    /// A zone-less wall time of a symbol (ms as if it were UTC) → the UTC instant (its venue's zone).
    public typealias LocalTime = @Sendable (_ symbol: String, _ localMs: Int64) -> Int64

    static let timeNames = ["date", "datetime", "time", "timestamp", "ts", "trade_date"]
    static let symbolNames = ["symbol", "ticker", "code", "ts_code"]
    static let volumeNames = ["volume", "vol"]

    /// Whether a CSV header row names bar prices (open, high, low, close) rather than ticks.
    public static func isBarHeader(_ line: String) -> Bool {
        let names = Set(headerNames(line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        return ["open", "high", "low", "close"].allSatisfy(names.contains)
    }

    static func headerNames(_ cells: [String]) -> [String] {
        cells.map { cell in
            var name = cell.trimmingSpaces().lowercased()
            if name.hasPrefix("\u{FEFF}") { name.removeFirst() }
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
            return name
        }
    }

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, symbol defaultSymbol: String, interval: String,
                              utcOffsetMinutes: Int64 = 0, localToUTC: LocalTime? = nil, lineOffset: Int = 0,
                              into result: inout BarDecodeResult) {
        let layout: Layout
        switch Layout.read(bytes) {
        case .success(let l): layout = l
        case .failure(let e):
            result.documentError = e.message
            return
        }
        var part = BarDecodePart()
        decodeRows(bytes, from: layout.bodyStart, to: bytes.count, layout: layout, symbol: defaultSymbol, interval: interval,
                   utcOffsetMinutes: utcOffsetMinutes, localToUTC: localToUTC, into: &part) { result.bars.append($0) }
        result.append(part, linesBefore: lineOffset + layout.linesBefore)
    }

    /// An OHLCV file's header: which column holds what, and where the data rows start.
    public struct Layout: Sendable {
        let columns: Columns
        /// Byte offset of the first data row, and the line feeds before it.
        public let bodyStart: Int
        public let linesBefore: Int

        public struct Failure: Error { public let message: String }

        public static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<Layout, Failure> {
            var reader = TickCSV.Reader(bytes: bytes)
            guard let header = reader.header().map(headerNames) else {
                return .failure(Failure(message: "empty CSV: expected a header row naming Date,Open,High,Low,Close[,Volume]"))
            }
            let column = { (names: [String]) in names.lazy.compactMap { header.firstIndex(of: $0) }.first }
            guard let time = column(timeNames), let open = column(["open"]), let high = column(["high"]),
                  let low = column(["low"]), let close = column(["close"]) else {
                return .failure(Failure(message: "an OHLCV header must name a date (\(timeNames.joined(separator: "/"))) and open, high, low, close (got: \(header.joined(separator: ",")))"))
            }
            let columns = Columns(time: time, open: open, high: high, low: low, close: close, volume: column(volumeNames),
                                  vwap: column(["vwap"]), symbol: column(symbolNames), count: header.count)
            return .success(Layout(columns: columns, bodyStart: reader.position, linesBefore: reader.line - 1))
        }
    }

    /// The data rows of `bytes[from..<to]` (whole lines: `from` starts one, `to` ends one): each
    /// bar to `emit` in file order, the refused rows into `part` with line numbers counted from
    /// `from`. Parts of one file decoded apart (on several threads) and appended in order give
    /// what one pass over the whole would. There are at most `lineFeeds(…) + 1` bars.
    public static func decodeRows(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int, layout: Layout, symbol defaultSymbol: String,
                                  interval: String, utcOffsetMinutes: Int64 = 0, localToUTC: LocalTime? = nil,
                                  into part: inout BarDecodePart,
                                  emit: (Bar) -> Void) {
        let slice = UnsafeBufferPointer(rebasing: bytes[from..<to])
        let columns = layout.columns
        func row(_ buffer: UnsafeBufferPointer<UInt8>, _ cells: UnsafeBufferPointer<Range<Int>>, _ line: Int) {
            switch decodeRow(buffer, cells, columns, defaultSymbol, interval, utcOffsetMinutes, localToUTC) {
            case .success(let bar): emit(bar)
            case .failure(let e): part.problems.append((part.rows, line, e))
            }
            part.rows += 1
        }
        guard let base = slice.baseAddress, memchr(base, Int32(UInt8(ascii: "\"")), slice.count) == nil else {
            // Quoted cells (which may hold commas and line feeds): the general reader.
            var reader = TickCSV.Reader(bytes: slice)
            reader.forEachRow { buffer, cells, line in cells.withUnsafeBufferPointer { row(buffer, $0, line) } }
            part.lines = reader.line - 1
            return
        }
        // No quotes: a row is a line, its cells what lies between commas; split in place into
        // one reused array of ranges (a row with more cells than the header is refused anyway).
        let room = columns.count + 1
        let cells = UnsafeMutablePointer<Range<Int>>.allocate(capacity: room)
        defer { cells.deallocate() }
        var position = 0
        var line = 1
        while position < slice.count {
            let start = position
            let end = memchr(base + start, 10, slice.count - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }
                ?? slice.count
            position = end + 1
            defer { line += 1 }
            var lineEnd = end
            if lineEnd > start, slice[lineEnd - 1] == 13 { lineEnd -= 1 }
            if lineEnd == start { continue }  // blank line
            var n = 0
            var cellStart = start
            for k in start..<lineEnd where slice[k] == UInt8(ascii: ",") {
                if n < room { cells[n] = cellStart..<k }
                n += 1
                cellStart = k + 1
            }
            if n < room { cells[n] = cellStart..<lineEnd }
            n += 1
            guard n <= columns.count else {
                part.problems.append((part.rows, line, TickFieldError(field: "", message: "\(n) columns, the header has \(columns.count)")))
                part.rows += 1
                continue
            }
            row(slice, UnsafeBufferPointer(start: cells, count: n), line)
        }
        part.lines = line - 1 - (slice.last == 10 || slice.isEmpty ? 0 : 1)
    }

    /// Line feeds in `bytes[from..<to]`.
    public static func lineFeeds(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var n = 0
        var p = from
        while p < to, let hit = memchr(base + p, 10, to - p) {
            n += 1
            p = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base + 1
        }
        return n
    }

    /// Where the file may be cut into `count` parts for `decodeRows`: after a line feed near each
    /// even share of the rows. One part when a row may span lines (the file has quotes).
    public static func splits(_ bytes: UnsafeBufferPointer<UInt8>, bodyStart: Int, count: Int) -> [Int] {
        var cuts = [bodyStart]
        guard count > 1, bytes.count - bodyStart > 1 << 16,
              memchr(bytes.baseAddress! + bodyStart, Int32(UInt8(ascii: "\"")), bytes.count - bodyStart) == nil else {
            return cuts + [bytes.count]
        }
        let share = (bytes.count - bodyStart) / count
        for k in 1..<count {
            var i = max(cuts.last!, bodyStart + share * k)
            while i < bytes.count, bytes[i] != 10 { i += 1 }
            cuts.append(min(i + 1, bytes.count))
        }
        cuts.append(bytes.count)
        return cuts
    }

    struct Columns: Sendable {
        let time, open, high, low, close: Int
        let volume, vwap, symbol: Int?
        let count: Int
    }

    private static func decodeRow(_ buf: UnsafeBufferPointer<UInt8>, _ cells: UnsafeBufferPointer<Range<Int>>, _ c: Columns,
                                  _ defaultSymbol: String, _ interval: String, _ offset: Int64,
                                  _ localToUTC: LocalTime?) -> Result<Bar, TickFieldError> {
        guard cells.count == c.count else {
            return .failure(TickFieldError(field: "", message: "\(cells.count) columns, the header has \(c.count)"))
        }
        func text(_ i: Int) -> UnsafeBufferPointer<UInt8> {
            var lo = cells[i].lowerBound, hi = cells[i].upperBound
            while lo < hi, buf[lo] == 32 || buf[lo] == 9 { lo += 1 }
            while hi > lo, buf[hi - 1] == 32 || buf[hi - 1] == 9 { hi -= 1 }
            return UnsafeBufferPointer(rebasing: buf[lo..<hi])
        }
        func price(_ i: Int, _ name: String) -> Result<Double, TickFieldError> {
            let t = text(i)
            guard let v = DecimalParser.parse(t), v.isFinite, v > 0 else {
                let shown = String(decoding: t, as: UTF8.self)
                return .failure(TickFieldError(field: name, message: shown.isEmpty ? "is empty" : "must be a positive number (got \(shown.debugDescription))"))
            }
            return .success(v)
        }
        var start: Int64
        switch parseTime(text(c.time), utcOffsetMinutes: offset) {
        case .success(let ms): start = ms
        case .failure(let e): return .failure(e)
        }
        let o, h, l, cl: Double
        switch price(c.open, "open") { case .success(let v): o = v; case .failure(let e): return .failure(e) }
        switch price(c.high, "high") { case .success(let v): h = v; case .failure(let e): return .failure(e) }
        switch price(c.low, "low") { case .success(let v): l = v; case .failure(let e): return .failure(e) }
        switch price(c.close, "close") { case .success(let v): cl = v; case .failure(let e): return .failure(e) }
        guard h >= max(o, cl, l) else { return .failure(TickFieldError(field: "high", message: "\(h) is below the open, low or close")) }
        guard l <= min(o, cl) else { return .failure(TickFieldError(field: "low", message: "\(l) is above the open or close")) }
        var volume = 0.0
        if let v = c.volume {
            let t = text(v)
            if !t.isEmpty {
                guard let x = DecimalParser.parse(t), x.isFinite, x >= 0 else {
                    return .failure(TickFieldError(field: "volume", message: "must be a number ≥ 0 (got \(String(decoding: t, as: UTF8.self).debugDescription))"))
                }
                volume = x
            }
        }
        var vwap = (h + l + cl) / 3
        if let v = c.vwap, let x = DecimalParser.parse(text(v)), x.isFinite, x > 0 { vwap = x }
        var symbol = defaultSymbol
        if let s = c.symbol {
            let t = text(s)
            guard !t.isEmpty else { return .failure(TickFieldError(field: "symbol", message: "is empty")) }
            symbol = String(decoding: t, as: UTF8.self)
        }
        // A time written without a zone is the symbol's venue's local time, when one is given: a
        // zone-less value reads differently at two offsets (a zoned or epoch one does not).
        if let localToUTC, case .success(let shifted) = parseTime(text(c.time), utcOffsetMinutes: offset + 1), shifted != start {
            start = localToUTC(symbol, start + offset * 60_000)
        }
        return .success(Bar(symbol: symbol, interval: interval, start: start, open: o, high: h, low: l, close: cl,
                            volume: volume, vwap: vwap, trades: 0))
    }

    /// The two commonest forms, `2024-01-02` and `2024-01-02 09:30:00` (or `T`), read by position;
    /// nil for anything else, which `parseTime` reads in full (with the same checks).
    @inline(__always)
    static func commonTime(_ s: UnsafeBufferPointer<UInt8>, utcOffsetMinutes: Int64) -> Int64? {
        guard s.count == 10 || s.count == 19, s[4] == 45, s[7] == 45 else { return nil }
        @inline(__always) func two(_ i: Int) -> Int64? {
            let a = s[i] &- 48, b = s[i + 1] &- 48
            return a < 10 && b < 10 ? Int64(a) * 10 + Int64(b) : nil
        }
        guard let c = two(0), let yy = two(2), let m = two(5), let d = two(8) else { return nil }
        let y = c * 100 + yy
        guard (1...12).contains(m), d >= 1, d <= CivilDate.daysIn(month: m, year: y) else { return nil }
        var seconds = CivilDate.days(y, m, d) * 86_400
        if s.count == 19 {
            guard s[10] == 32 || s[10] == UInt8(ascii: "T"), s[13] == 58, s[16] == 58,
                  let hh = two(11), let mm = two(14), let ss = two(17), hh < 24, mm < 60, ss < 61 else { return nil }
            seconds += hh * 3600 + mm * 60 + min(ss, 59)
        }
        return (seconds - utcOffsetMinutes * 60) * 1000
    }

    /// A bar's time → epoch milliseconds (see the type's notes for the forms).
    public static func parseTime(_ s: UnsafeBufferPointer<UInt8>, utcOffsetMinutes: Int64 = 0) -> Result<Int64, TickFieldError> {
        if let ms = commonTime(s, utcOffsetMinutes: utcOffsetMinutes) { return .success(ms) }
        func fail(_ why: String) -> Result<Int64, TickFieldError> {
            .failure(TickFieldError(field: "date", message: "\(why) (got \(String(decoding: s, as: UTF8.self).debugDescription); expected 2024-01-02, 2024-01-02 09:30:00[+08:00], 20240102 or epoch seconds/milliseconds)"))
        }
        guard !s.isEmpty else { return fail("is empty") }
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= s.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                guard s[k] >= 48 && s[k] <= 57 else { return nil }
                v = v * 10 + Int64(s[k] - 48)
            }
            i += n
            return v
        }
        func validDate(_ y: Int64, _ m: Int64, _ d: Int64) -> Bool {
            (1...12).contains(m) && (1...CivilDate.daysIn(month: m, year: y)).contains(d)
        }
        if s.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            guard s.count <= 16, let n = digits(s.count) else { return fail("bad date") }
            if s.count == 8 {
                let y = n / 10_000, m = n / 100 % 100, d = n % 100
                guard validDate(y, m, d) else { return fail("bad date") }
                return .success((CivilDate.days(y, m, d) * 86_400 - utcOffsetMinutes * 60) * 1000)
            }
            return .success(n >= 100_000_000_000 ? n : n * 1000)
        }
        guard let y = digits(4), i < s.count, s[i] == 45 || s[i] == 47 else { return fail("bad date") }
        let separator = s[i]
        i += 1
        guard let m = digits(2), i < s.count, s[i] == separator else { return fail("bad date") }
        i += 1
        guard let d = digits(2), validDate(y, m, d) else { return fail("bad date") }
        let days = CivilDate.days(y, m, d)
        if i == s.count { return .success((days * 86_400 - utcOffsetMinutes * 60) * 1000) }
        guard s[i] == 32 || s[i] == UInt8(ascii: "T") else { return fail("bad date") }
        i += 1
        guard let hh = digits(2), i < s.count, s[i] == 58 else { return fail("bad time") }
        i += 1
        guard let mm = digits(2), hh < 24, mm < 60 else { return fail("bad time") }
        var ss: Int64 = 0
        var millis: Int64 = 0
        if i < s.count, s[i] == 58 {
            i += 1
            guard let v = digits(2), v < 61 else { return fail("bad time") }
            ss = min(v, 59)
            if i < s.count, s[i] == 46 {
                i += 1
                var scale: Int64 = 100
                let first = i
                while i < s.count, s[i] >= 48, s[i] <= 57 {
                    millis += Int64(s[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard i > first, i - first <= 9 else { return fail("bad fraction of a second") }
            }
        }
        var offset = utcOffsetMinutes
        if i < s.count {
            if s[i] == UInt8(ascii: "Z") {
                offset = 0
                i += 1
            } else if s[i] == 43 || s[i] == 45 {
                let sign: Int64 = s[i] == 45 ? -1 : 1
                i += 1
                guard let oh = digits(2) else { return fail("bad UTC offset") }
                if i < s.count, s[i] == 58 { i += 1 }
                guard let om = digits(2), oh < 24, om < 60 else { return fail("bad UTC offset") }
                offset = sign * (oh * 60 + om)
            }
            guard i == s.count else { return fail("trailing characters") }
        }
        return .success(((days * 86_400 + hh * 3600 + mm * 60 + ss) - offset * 60) * 1000 + millis)
    }

    public static func parseTime(_ text: String, utcOffsetMinutes: Int64 = 0) -> Result<Int64, TickFieldError> {
        var copy = text
        return copy.withUTF8 { parseTime($0, utcOffsetMinutes: utcOffsetMinutes) }
    }
}
