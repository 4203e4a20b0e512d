/// CSV ticks (RFC 4180 quoting): a header row names the columns in any order; `ts,symbol,price,
/// volume` are required, `bid,ask` optional, other columns ignored. `ts` is epoch milliseconds
/// or ISO-8601 with an offset. LF or CRLF line endings; blank lines skipped.
enum TickCSV {
    private static let required = ["ts", "symbol", "price", "volume"]

    /// `header`: the file's header record, when `bytes` are rows after it (a later chunk of a
    /// file); line numbers then count from the header's line, as in one document.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, lineOffset: Int = 0, header headerBytes: UnsafeBufferPointer<UInt8>? = nil,
                       into result: inout TickDecodeResult) {
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
        reader.forEachRow { buffer, cells, line in
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
        mutating func forEachRow(_ body: (UnsafeBufferPointer<UInt8>, [Range<Int>], Int) -> Void) {
            var cells: [Range<Int>] = []
            var joined: [UInt8] = []
            while position < bytes.count {
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
