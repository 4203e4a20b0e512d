/// Percent-decoding (RFC 3986 §2.1) to UTF-8 text.
enum PercentDecoding {
    /// nil when an escape is invalid or the bytes are not UTF-8.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        let utf8 = text.utf8
        if !utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(text)
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let c = utf8[i]
            if c == UInt8(ascii: "%") {
                let h = utf8.index(after: i)
                guard h != utf8.endIndex else { return nil }
                let l = utf8.index(after: h)
                guard l != utf8.endIndex, let hi = HTTPParser.hexValue(utf8[h]), let lo = HTTPParser.hexValue(utf8[l]) else {
                    return nil
                }
                out.append(UInt8(hi << 4 | lo))
                i = utf8.index(after: l)
                continue
            }
            out.append(plusIsSpace && c == UInt8(ascii: "+") ? 32 : c)
            i = utf8.index(after: i)
        }
        return String(validating: out, as: UTF8.self)
    }
}

/// A query parameter that could not be decoded.
public struct HTTPQueryError: Error, Equatable, Sendable {
    public let parameter: String
    public let message: String
}

/// `a=1&b=x%20y&b=z&flag`: '+' is a space, escapes are decoded, empty pairs are skipped.
public struct QueryParameters: Sendable {
    private var pairs: [(name: String, value: String)] = []

    public init(parsing query: String) throws(HTTPQueryError) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let rawName: Substring
            let rawValue: Substring
            if let eq = pair.firstIndex(of: "=") {
                rawName = pair[..<eq]
                rawValue = pair[pair.index(after: eq)...]
            } else {
                rawName = pair
                rawValue = ""
            }
            guard let name = PercentDecoding.decode(rawName, plusIsSpace: true) else {
                throw HTTPQueryError(parameter: String(rawName), message: "invalid percent-encoding in parameter name")
            }
            guard let value = PercentDecoding.decode(rawValue, plusIsSpace: true) else {
                throw HTTPQueryError(parameter: name, message: "invalid percent-encoding in the value of \(name)")
            }
            if name.isEmpty { continue }
            pairs.append((name, value))
        }
    }

    /// The first value of `name`.
    public subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    public func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// Names in order of first appearance.
    public var names: [String] {
        var seen: [String] = []
        for pair in pairs where !seen.contains(pair.name) { seen.append(pair.name) }
        return seen
    }
}
