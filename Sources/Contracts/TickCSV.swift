/// CSV ticks (RFC 4180 quoting): a header row names the columns in any order; `ts,symbol,price,
/// volume` are required, `bid,ask` optional, other columns ignored. `ts` is epoch milliseconds
/// or ISO-8601 with an offset. LF or CRLF line endings; blank lines skipped.
enum TickCSV {
    private static let required = ["ts", "symbol", "price", "volume"]

    /// `header`: the file's header record, when `bytes` are rows after it (a later chunk of a
    /// file); line numbers then count from the header's line, as in one document.
    /// `fastRows` false sends every row down the general path (tests compare the two).
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, lineOffset: Int = 0, header headerBytes: UnsafeBufferPointer<UInt8>? = nil,
                       into result: inout TickDecodeResult, fastRows: Bool = true) {
        var reader = Reader(bytes: bytes)
        var names: [String]?
        if let headerBytes {
            var headerReader = Reader(bytes: headerBytes)
            names = headerReader.header()
            reader.line = headerReader.line
        } else {
            names = reader.header()
        }
        guard let header = names?.map({ $0.trimmingSpaces().lowercased() }) else {
            result.documentError = "empty CSV: expected a header row naming ts,symbol,price,volume[,bid,ask]"
            return
        }
        let column = { (name: String) in header.firstIndex(of: name) }
        let missing = required.filter { column($0) == nil }
        guard missing.isEmpty else {
            result.documentError = "CSV header must name ts, symbol, price and volume (missing: \(missing.joined(separator: ", ")); got: \(header.joined(separator: ",")))"
            return
        }
        let ts = column("ts")!, symbol = column("symbol")!, price = column("price")!, volume = column("volume")!
        let bid = column("bid"), ask = column("ask")
        var index = 0
        var fast = FastRows(header: header)
        reader.forEachRow(fast: { reader in
            guard fastRows, let tick = fast.row(&reader) else { return false }
            result.ticks.append(tick)
            index += 1
            return true
        }) { buffer, cells, line in
            defer { index += 1 }
            let line = line + lineOffset
            guard cells.count == header.count else {
                result.rejected.append(TickRejection(index: index, field: nil,
                    message: "line \(line): \(cells.count) columns, the header has \(header.count)"))
                return
            }
            switch row(buffer, cells, ts: ts, symbol: symbol, price: price, volume: volume, bid: bid, ask: ask) {
            case .success(let tick): result.ticks.append(tick)
            case .failure(let e):
                result.rejected.append(TickRejection(index: index, field: e.field, message: "line \(line): \(e.message)"))
            }
        }
    }

    private static func row(_ buf: UnsafeBufferPointer<UInt8>, _ f: [Range<Int>], ts: Int, symbol: Int, price: Int,
                            volume: Int, bid: Int?, ask: Int?) -> Result<Tick, TickFieldError>
    {
        var fields = TickFields()
        func cell(_ field: TickFields.Field, _ i: Int?) {
            if let i { fields.setText(field, UnsafeBufferPointer(rebasing: buf[f[i]])) }
        }
        cell(.ts, ts)
        cell(.symbol, symbol)
        cell(.price, price)
        cell(.volume, volume)
        cell(.bid, bid)
        cell(.ask, ask)
        return fields.tick()
    }

    /// The common row in one pass, parsed as it is split: unquoted cells, `ts` as integer
    /// milliseconds or ISO-8601, numbers as plain decimals of at most 15 digits, a valid tick.
    /// Anything else (quotes, blanks, exponents, a refused value, a wrong column count) is left
    /// to the general path, which applies `TickFields` and says what is wrong: both give the same
    /// tick for a row, bit for bit (the same Clinger fast path as `DecimalParser`).
    struct FastRows {
        enum Role: UInt8 { case ignored, ts, symbol, price, volume, bid, ask }
        /// Each column's role; a name given twice counts at its first column, as in `decode`.
        private var roles: [Role]
        /// Symbols met so far, by their bytes (direct-mapped): a repeated symbol is neither
        /// decoded nor checked again.
        private var symbols: [(lo: UInt64, hi: UInt64, length: Int, symbol: String)]

        init(header: [String]) {
            var roles = [Role](repeating: .ignored, count: header.count)
            for (name, role) in [("ts", Role.ts), ("symbol", .symbol), ("price", .price), ("volume", .volume), ("bid", .bid), ("ask", .ask)] {
                if let i = header.firstIndex(of: name) { roles[i] = role }
            }
            self.roles = roles
            symbols = Array(repeating: (0, 0, 0, ""), count: 64)
        }

        mutating func row(_ reader: inout Reader) -> Tick? {
            let n = reader.bytes.count
            guard let base = reader.bytes.baseAddress else { return nil }
            var p = reader.position
            var ended = false
            var ts: Int64 = -1
            var symbol: String?
            var price = -1.0, volume = -1.0
            var bid: Double?, ask: Double?
            let last = roles.count - 1
            for k in 0...last {
                switch roles[k] {
                case .ignored:
                    while p < n {
                        let c = base[p]
                        if c == UInt8(ascii: ",") || c == 10 { break }
                        if c == UInt8(ascii: "\"") { return nil }
                        p += 1
                    }
                case .ts:
                    var v: Int64 = 0
                    let start = p
                    while p < n {
                        let d = base[p] &- 48
                        if d > 9 { break }
                        v = v &* 10 &+ Int64(d)
                        p += 1
                    }
                    if p < n, base[p] != UInt8(ascii: ","), base[p] != 10, base[p] != 13 {
                        // Not integer milliseconds: ISO-8601 up to the cell's end.
                        while p < n, base[p] != UInt8(ascii: ","), base[p] != 10 {
                            if base[p] == UInt8(ascii: "\"") { return nil }
                            p += 1
                        }
                        let end = k == last && p > start && base[p - 1] == 13 ? p - 1 : p
                        guard case .success(let t) = Timestamp.parseISO8601(UnsafeBufferPointer(start: base + start, count: end - start))
                        else { return nil }
                        ts = t
                        p = end
                    } else {
                        guard p > start, p - start <= 18 else { return nil }
                        ts = v
                    }
                case .symbol:
                    // To the cell's end, then the cache by the bytes packed in two words: a
                    // symbol met before was checked then; a new one is checked once here.
                    let start = p
                    while p < n {
                        let c = base[p]
                        if c == UInt8(ascii: ",") || c == 10 || c == 13 || c == UInt8(ascii: "\"") { break }
                        p += 1
                    }
                    let length = p - start
                    guard length > 0, length <= 16 else { return nil }
                    var lo: UInt64 = 0, hi: UInt64 = 0
                    if n - start >= 16 {
                        let raw = UnsafeRawPointer(base + start)
                        lo = raw.loadUnaligned(as: UInt64.self)
                        hi = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                        if length < 8 { lo &= (1 &<< UInt64(8 * length)) &- 1; hi = 0 }
                        else if length < 16 { hi &= (1 &<< UInt64(8 * (length - 8))) &- 1 }
                    } else {
                        for i in 0..<length {
                            let b = UInt64(base[start + i])
                            if i < 8 { lo |= b &<< UInt64(8 * i) } else { hi |= b &<< UInt64(8 * (i - 8)) }
                        }
                    }
                    let slot = Int(truncatingIfNeeded: ((lo ^ (hi &* 0x9E37_79B9_7F4A_7C15)) &* 0xFF51_AFD7_ED55_8CCD) >> 58)
                    // (A NUL byte packs as padding does: the length tells "AB" from "AB\0".)
                    if symbols[slot].lo == lo && symbols[slot].hi == hi && symbols[slot].length == length {
                        symbol = symbols[slot].symbol
                    } else {
                        for i in start..<p where !Tick.isSymbolByte(base[i]) { return nil }
                        let s = String(decoding: UnsafeBufferPointer(start: base + start, count: length), as: UTF8.self)
                        symbols[slot] = (lo, hi, length, s)
                        symbol = s
                    }
                case .price, .volume, .bid, .ask:
                    let start = p
                    var m: UInt64 = 0
                    var fraction = 0
                    while p < n {
                        let d = base[p] &- 48
                        if d > 9 { break }
                        m = m &* 10 &+ UInt64(d)
                        p += 1
                    }
                    let whole = p - start
                    if p < n, base[p] == UInt8(ascii: ".") {
                        p += 1
                        while p < n {
                            let d = base[p] &- 48
                            if d > 9 { break }
                            m = m &* 10 &+ UInt64(d)
                            p += 1
                            fraction += 1
                        }
                    }
                    let digits = whole + fraction
                    var value: Double?
                    if p == start {
                        // An empty quote is absent; an empty price or volume is refused (general path).
                        guard roles[k] == .bid || roles[k] == .ask else { return nil }
                    } else {
                        guard digits > 0, digits <= 15 else { return nil }
                        value = fraction == 0 ? Double(m) : Double(m) / DecimalParser.power(fraction)
                    }
                    switch roles[k] {
                    case .price: price = value ?? -1
                    case .volume: volume = value ?? -1
                    case .bid: bid = value
                    default: ask = value
                    }
                }
                if k < last {
                    guard p < n, base[p] == UInt8(ascii: ",") else { return nil }
                    p += 1
                } else {
                    if p < n, base[p] == 13 { p += 1 }
                    if p < n {
                        guard base[p] == 10 else { return nil }
                        p += 1
                        ended = true
                    }
                }
            }
            // The value rules `Tick.validate` applies (ts ≥ 0 and finite numbers hold already).
            guard let symbol, ts >= 0, price > 0, volume >= 0 else { return nil }
            if let bid, bid <= 0 { return nil }
            if let ask, ask <= 0 { return nil }
            if let bid, let ask, bid > ask { return nil }
            reader.position = p
            if ended { reader.line += 1 }
            return Tick(symbol: symbol, ts: ts, price: price, volume: volume, bid: bid, ask: ask)
        }
    }

    /// Splits records and fields, honouring quotes (a quoted field may hold commas, newlines
    /// and doubled quotes).
    /// The length of the header record at the start of `bytes` (blank lines before it
    /// included, its line end too); nil when there is none.
    static func headerLength(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var reader = Reader(bytes: bytes)
        return reader.header() == nil ? nil : reader.position
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var line = 1

        /// The first non-blank record's fields as text (the header row), nil when there is none.
        mutating func header() -> [String]? {
            while let fields = nextRecord() {
                if fields.count == 1 && fields[0].isEmpty { continue }
                return fields.map { String(decoding: $0, as: UTF8.self) }
            }
            return nil
        }

        /// Every non-blank record left, as cell ranges of a buffer, with its line number. A line
        /// without quotes is split in place, without copies; a quoted record (which may span
        /// lines) is unquoted into one reused buffer.
        /// `fast` is offered each record first, with the reader at its start: it takes the record
        /// (moving past it) and returns true, or leaves the reader as it was and returns false.
        mutating func forEachRow(fast: (inout Reader) -> Bool = { _ in false },
                                 _ body: (UnsafeBufferPointer<UInt8>, [Range<Int>], Int) -> Void) {
            var cells: [Range<Int>] = []
            var joined: [UInt8] = []
            while position < bytes.count {
                if fast(&self) { continue }
                let start = position
                let rowLine = line  // a record is numbered by the line it starts on
                var end = start
                var quoted = false
                // One pass: the line's end, its commas, and whether it holds a quote.
                cells.removeAll(keepingCapacity: true)
                var cellStart = start
                while end < bytes.count {
                    let c = bytes[end]
                    if c == 10 { break }
                    if c == UInt8(ascii: ",") {
                        cells.append(cellStart..<end)
                        cellStart = end + 1
                    } else if c == UInt8(ascii: "\"") {
                        quoted = true
                    }
                    end += 1
                }
                if quoted {
                    cells.removeAll(keepingCapacity: true)
                    guard let fields = nextRecord() else { return }
                    joined.removeAll(keepingCapacity: true)
                    for f in fields {
                        cells.append(joined.count..<(joined.count + f.count))
                        joined.append(contentsOf: f)
                    }
                    joined.withUnsafeBufferPointer { body($0, cells, rowLine) }
                    continue
                }
                position = end < bytes.count ? end + 1 : end
                if end < bytes.count { line += 1 }
                var lineEnd = end
                if lineEnd > start, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
                if lineEnd == start { continue }  // blank line
                // A carriage return ends the line, not the last cell (a comma before it cannot
                // be: lineEnd is past every comma found).
                cells.append(cellStart..<max(cellStart, lineEnd))
                body(bytes, cells, rowLine)
            }
        }

        mutating func nextRecord() -> [[UInt8]]? {
            guard position < bytes.count else { return nil }
            var fields: [[UInt8]] = []
            var field: [UInt8] = []
            var quoted = false
            while position < bytes.count {
                let c = bytes[position]
                position += 1
                if quoted {
                    if c == UInt8(ascii: "\"") {
                        if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
                            field.append(c)
                            position += 1
                        } else {
                            quoted = false
                        }
                    } else {
                        if c == 10 { line += 1 }
                        field.append(c)
                    }
                    continue
                }
                switch c {
                case UInt8(ascii: "\"") where field.isEmpty: quoted = true
                case UInt8(ascii: ","):
                    fields.append(field)
                    field = []
                case 10:
                    line += 1
                    if field.last == 13 { field.removeLast() }
                    fields.append(field)
                    return fields
                default: field.append(c)
                }
            }
            if field.last == 13 { field.removeLast() }
            fields.append(field)
            return fields
        }
    }
}
