import Contracts
/// Decodes one complete request head (request line + fields + final CRLF) and decides the
/// body framing. Separate from the incremental machinery so it reads top to bottom.
enum HeadDecoder {
    enum Result {
        case success((HTTPRequest, HTTPParser.Framing))
        case failure(HTTPParseError)
    }

    /// RFC 9110 §5.6.2 tchar.
    static let tchar: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(c)] = true }
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(c)] = true }
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(c)] = true }
        for c in "!#$%&'*+-.^_`|~".utf8 { table[Int(c)] = true }
        return table
    }()

    static func decode(_ head: UnsafeBufferPointer<UInt8>, limits: HTTPLimits) -> Result {
        // Request line.
        var i = 0
        while i < head.count, tchar[Int(head[i])] { i += 1 }
        guard i > 0, i < head.count, head[i] == 32 else { return .failure(.malformed("invalid method")) }
        let method = HTTPMethod(token: UnsafeBufferPointer(rebasing: head[0..<i]))
        let targetStart = i + 1
        var j = targetStart
        while j < head.count, head[j] > 32, head[j] < 127 { j += 1 }
        if j - targetStart > limits.maxURIBytes { return .failure(.uriTooLong) }
        guard j > targetStart, j < head.count, head[j] == 32 else { return .failure(.malformed("invalid request target")) }
        let target = String(decoding: UnsafeBufferPointer(rebasing: head[targetStart..<j]), as: UTF8.self)
        let versionStart = j + 1
        guard versionStart + 10 <= head.count else { return .failure(.malformed("invalid HTTP version")) }
        let v = UnsafeBufferPointer(rebasing: head[versionStart..<(versionStart + 8)])
        guard v.starts(with: "HTTP/".utf8), (48...57).contains(v[5]), v[6] == UInt8(ascii: "."), (48...57).contains(v[7]),
              head[versionStart + 8] == 13 else {
            return .failure(.malformed("invalid HTTP version"))
        }
        guard v[5] == UInt8(ascii: "1"), v[7] <= UInt8(ascii: "1") else { return .failure(.unsupportedVersion) }
        let minor = Int(v[7] - 48)

        // Header fields.
        var headers = HTTPHeaders()
        var line = versionStart + 10
        while line < head.count - 2 {
            var end = line
            while head[end] != 13 { end += 1 }
            let field = UnsafeBufferPointer(rebasing: head[line..<end])
            if field.first == 32 || field.first == 9 { return .failure(.malformed("obs-fold")) }
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                  field[0..<colon].allSatisfy({ tchar[Int($0)] }) else {
                return .failure(.malformed("invalid header name"))
            }
            var vs = colon + 1
            var ve = field.count
            while vs < ve, field[vs] == 32 || field[vs] == 9 { vs += 1 }
            while ve > vs, field[ve - 1] == 32 || field[ve - 1] == 9 { ve -= 1 }
            for k in vs..<ve where !validValueByte(field[k]) { return .failure(.malformed("invalid header value")) }
            if headers.count == limits.maxHeaderCount { return .failure(.tooManyHeaders) }
            headers.add(String(decoding: UnsafeBufferPointer(rebasing: field[0..<colon]), as: UTF8.self),
                        String(decoding: UnsafeBufferPointer(rebasing: field[vs..<ve]), as: UTF8.self))
            line = end + 2
        }
        return finish(method: method, target: target, minor: minor, headers: headers, limits: limits)
    }

    @inline(__always)
    static func validValueByte(_ c: UInt8) -> Bool { c == 9 || (c >= 32 && c != 127) }

    /// A trailer field line (without CRLF) is `token ":" value` like a header.
    static func validField(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        return field[0..<colon].allSatisfy { tchar[Int($0)] } && field[(colon + 1)...].allSatisfy(validValueByte)
    }

    private static func finish(method: HTTPMethod, target: String, minor: Int, headers: HTTPHeaders,
                               limits: HTTPLimits) -> Result {
        // One pass over the fields for the ones read here (most requests have a Host and none
        // of the others: nothing is collected for them).
        var hosts = 0
        var lengths: [String] = []
        var codings: [String] = []
        var connections: [String] = []
        var expect: String?
        for field in headers {
            switch field.name.utf8.count {
            case 4 where HTTPHeaders.same(field.name, "Host"): hosts += 1
            case 6 where HTTPHeaders.same(field.name, "Expect"): if expect == nil { expect = field.value }
            case 10 where HTTPHeaders.same(field.name, "Connection"): connections.append(field.value)
            case 14 where HTTPHeaders.same(field.name, "Content-Length"): lengths.append(field.value)
            case 17 where HTTPHeaders.same(field.name, "Transfer-Encoding"): codings.append(field.value)
            default: break
            }
        }
        if minor == 1 && hosts == 0 { return .failure(.malformed("missing Host")) }
        if hosts > 1 { return .failure(.malformed("multiple Host fields")) }

        // Framing (RFC 9112 §6.3), refusing every ambiguity.
        var framing = HTTPParser.Framing.none
        if !codings.isEmpty {
            if !lengths.isEmpty { return .failure(.malformed("Content-Length with Transfer-Encoding")) }
            if minor == 0 { return .failure(.malformed("Transfer-Encoding in HTTP/1.0")) }
            let list = codings.flatMap { $0.split(separator: ",") }
                .map { $0.trimmingSpaces().lowercased() }
            guard let last = list.last else { return .failure(.malformed("empty Transfer-Encoding")) }
            if last != "chunked" {
                return .failure(list.contains("chunked") ? .malformed("chunked is not the final coding")
                                                         : .unsupportedTransferEncoding)
            }
            if list.count > 1 {
                return .failure(list.dropLast().contains("chunked") ? .malformed("chunked applied twice")
                                                                    : .unsupportedTransferEncoding)
            }
            framing = .chunked
        } else if !lengths.isEmpty {
            // Any repetition is refused, equal values too (RFC 9110 §8.6 allows either; nginx
            // refuses): two parsers in a chain that disagree on it are how requests get smuggled.
            var value: Int?
            for part in lengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
                let digits = part.trimmingSpaces()
                guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                      let n = Int(digits) else {
                    return .failure(.malformed("invalid Content-Length"))
                }
                if let value { return .failure(.malformed(value != n ? "conflicting Content-Length" : "duplicate Content-Length")) }
                value = n
            }
            let n = value ?? 0
            if n > limits.maxBodyBytes { return .failure(.bodyTooLarge) }
            framing = .length(n)
        }

        // Target forms (RFC 9112 §3.2): origin, absolute, asterisk (OPTIONS only).
        var pathAndQuery = Substring(target)
        if target == "*" {
            guard method == .options else { return .failure(.malformed("asterisk target outside OPTIONS")) }
        } else if !target.hasPrefix("/") {
            let lower = target.lowercased()
            let scheme = lower.hasPrefix("http://") ? 7 : lower.hasPrefix("https://") ? 8 : 0
            guard scheme > 0 else { return .failure(.malformed("invalid request target")) }
            let rest = target.dropFirst(scheme)
            pathAndQuery = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { rest[$0...] } ?? "/"
            if pathAndQuery.hasPrefix("?") { pathAndQuery = "/" + pathAndQuery }
        }
        let rawPath: Substring
        let query: Substring
        if let q = pathAndQuery.utf8.firstIndex(of: UInt8(ascii: "?")) {
            rawPath = pathAndQuery[..<q]
            query = pathAndQuery[pathAndQuery.utf8.index(after: q)...]
        } else {
            rawPath = pathAndQuery
            query = ""
        }
        // A path without escapes is its own decoding: one String serves both (the target itself
        // when it is the whole path).
        let rawPathText = rawPath.utf8.count == target.utf8.count ? target : String(rawPath)
        let path: String
        if rawPathText.utf8.contains(UInt8(ascii: "%")) {
            guard let decoded = PercentDecoding.decode(rawPath, plusIsSpace: false) else {
                return .failure(.malformed("invalid percent-encoding in path"))
            }
            path = decoded
        } else {
            path = rawPathText
        }
        if path.utf8.contains(0) { return .failure(.malformed("NUL in path")) }

        let connection = connections.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
        let keepAlive = minor == 1 ? !connection.contains("close")
                                   : connection.contains("keep-alive") && !connection.contains("close")
        var bodyExpected = false
        switch framing {
        case .none: break
        case .length(let n): bodyExpected = n > 0
        case .chunked: bodyExpected = true
        }
        let expects = minor == 1 && bodyExpected && expect.map { $0.lowercased() == "100-continue" } == true
        let request = HTTPRequest(method: method, target: target, path: path, rawPath: rawPathText,
                                  query: String(query), versionMinor: minor, headers: headers, body: [],
                                  keepAlive: keepAlive, expectsContinue: expects)
        return .success((request, framing))
    }
}
