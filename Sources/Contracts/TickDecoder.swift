/// The wire formats ticks arrive in.
public enum TickFormat: Sendable, Equatable {
    /// One JSON object, or an array of them.
    case json
    /// One JSON object per line.
    case ndjson
    /// A header row naming `ts,symbol,price,volume[,bid,ask]` in any order, then one tick per row.
    case csv

    /// From an HTTP Content-Type (parameters ignored); nil when unsupported.
    public init?(contentType: String) {
        let type = contentType.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() } ?? ""
        switch type {
        case "application/json", "text/json": self = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines": self = .ndjson
        case "text/csv", "application/csv": self = .csv
        default: return nil
        }
    }

    /// From a file name's extension; nil when unknown.
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".csv") { self = .csv }
        else if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") { self = .ndjson }
        else if lower.hasSuffix(".json") { self = .json }
        else { return nil }
    }
}

/// What decoding produced: the valid ticks in input order, a rejection per invalid record, and
/// a document-level error when the input could not be read past some point.
public struct TickDecodeResult: Sendable {
    public var ticks: [Tick] = []
    public var rejected: [TickRejection] = []
    /// Set when the input as a whole is unreadable from some position on (bad JSON syntax in
    /// an array, a CSV without the required header): records after it were not read.
    public var documentError: String?

    public init() {}
}

/// Decodes ticks from bytes without Foundation: one pass, no intermediate JSON tree.
public enum TickDecoder {
    /// `lineOffset` is added to the line numbers in messages: a caller decoding a file in
    /// chunks passes the number of data lines before this chunk.
    public static func decode(_ bytes: UnsafeRawBufferPointer, format: TickFormat, lineOffset: Int = 0) -> TickDecodeResult {
        let buffer = bytes.bindMemory(to: UInt8.self)
        var result = TickDecodeResult()
        switch format {
        case .json: decodeJSON(buffer, into: &result)
        case .ndjson: decodeNDJSON(buffer, lineOffset: lineOffset, into: &result)
        case .csv: TickCSV.decode(buffer, lineOffset: lineOffset, into: &result)
        }
        return result
    }

    /// Decodes into `result` (emptied first, its storage kept: a reader of a large file reuses
    /// one). `csvHeader`: the file's header record when `bytes` are CSV rows after it.
    public static func decode(_ bytes: UnsafeRawBufferPointer, format: TickFormat, lineOffset: Int = 0,
                              csvHeader: UnsafeRawBufferPointer?, into result: inout TickDecodeResult) {
        result.ticks.removeAll(keepingCapacity: true)
        result.rejected.removeAll(keepingCapacity: true)
        result.documentError = nil
        let buffer = bytes.bindMemory(to: UInt8.self)
        switch format {
        case .json: decodeJSON(buffer, into: &result)
        case .ndjson: decodeNDJSON(buffer, lineOffset: lineOffset, into: &result)
        case .csv: TickCSV.decode(buffer, lineOffset: lineOffset, header: csvHeader?.bindMemory(to: UInt8.self), into: &result)
        }
    }

    /// The length of a CSV document's header record (through its line end); nil when none.
    public static func csvHeaderLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        TickCSV.headerLength(bytes.bindMemory(to: UInt8.self))
    }

    public static func decode(_ bytes: [UInt8], format: TickFormat) -> TickDecodeResult {
        bytes.withUnsafeBytes { decode($0, format: format) }
    }

    /// One JSON tick object and nothing else (a Redis entry's `data` field): unreadable JSON
    /// or another value is refused as field `record`.
    public static func decodeObject(_ bytes: UnsafeRawBufferPointer) -> Result<Tick, TickFieldError> {
        var scanner = JSONScanner(bytes.bindMemory(to: UInt8.self))
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{") else { return .failure(TickFieldError(field: "record", message: "must be a JSON object")) }
        do {
            let decoded = try TickObject.decode(&scanner)
            scanner.skipWhitespace()
            guard scanner.atEnd else { return .failure(TickFieldError(field: "record", message: "unexpected data after the object")) }
            return decoded
        } catch {
            return .failure(TickFieldError(field: "record", message: "invalid JSON at byte \(error.position): \(error.message)"))
        }
    }

    static func decodeJSON(_ bytes: UnsafeBufferPointer<UInt8>, into result: inout TickDecodeResult) {
        var scanner = JSONScanner(bytes)
        do {
            if scanner.take(UInt8(ascii: "[")) {
                var index = 0
                if !scanner.take(UInt8(ascii: "]")) {
                    repeat {
                        try element(&scanner, index: index, into: &result)
                        index += 1
                    } while scanner.take(UInt8(ascii: ","))
                    try scanner.expect(UInt8(ascii: "]"))
                }
            } else {
                scanner.skipWhitespace()
                guard scanner.peek == UInt8(ascii: "{") else {
                    result.documentError = "expected a JSON object or an array of objects"
                    return
                }
                try element(&scanner, index: 0, into: &result)
            }
            scanner.skipWhitespace()
            if !scanner.atEnd { result.documentError = "unexpected data after the JSON value at byte \(scanner.position)" }
        } catch {
            result.documentError = "invalid JSON at byte \(error.position): \(error.message)"
        }
    }

    private static func element(_ scanner: inout JSONScanner, index: Int, into result: inout TickDecodeResult)
        throws(JSONScanner.SyntaxError)
    {
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{") else {
            try scanner.skipValue()
            result.rejected.append(TickRejection(index: index, field: nil, message: "each tick must be a JSON object"))
            return
        }
        switch try TickObject.decode(&scanner) {
        case .success(let tick): result.ticks.append(tick)
        case .failure(let error): result.rejected.append(TickRejection(index: index, field: error.field, message: error.message))
        }
    }

    static func decodeNDJSON(_ bytes: UnsafeBufferPointer<UInt8>, lineOffset: Int = 0, into result: inout TickDecodeResult) {
        var index = 0
        var lineStart = 0
        var lineNumber = lineOffset
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 10 { lineEnd += 1 }
            lineNumber += 1
            let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            var scanner = JSONScanner(line)
            scanner.skipWhitespace()
            if scanner.atEnd { continue }  // blank lines are allowed
            defer { index += 1 }
            do {
                guard scanner.peek == UInt8(ascii: "{") else {
                    result.rejected.append(TickRejection(index: index, field: nil, message: "line \(lineNumber): each line must be a JSON object"))
                    continue
                }
                let decoded = try TickObject.decode(&scanner)
                scanner.skipWhitespace()
                guard scanner.atEnd else {
                    result.rejected.append(TickRejection(index: index, field: nil, message: "line \(lineNumber): unexpected data after the object"))
                    continue
                }
                switch decoded {
                case .success(let tick): result.ticks.append(tick)
                case .failure(let e): result.rejected.append(TickRejection(index: index, field: e.field, message: e.message))
                }
            } catch {
                result.rejected.append(TickRejection(index: index, field: nil,
                                                     message: "line \(lineNumber): invalid JSON at column \(error.position + 1): \(error.message)"))
            }
        }
    }
}

extension StringProtocol {
    /// Trims spaces and tabs (HTTP's OWS, CSV cell padding), nothing else: the one trim helper.
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
