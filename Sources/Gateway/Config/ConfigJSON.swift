import Foundation

/// A JSON value as the config layer sees it: numbers split into integral and not, booleans
/// kept apart from numbers (JSONSerialization hands both back as NSNumber).
enum ConfigValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    /// Parses a whole document with Foundation's JSONSerialization.
    /// - Throws: a message with JSONSerialization's reason and, when it gives a character
    ///   offset, the line and column.
    static func parse(_ data: Data) throws(ConfigParseError) -> ConfigValue {
        let any: Any
        do {
            any = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            var reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            if reason.hasSuffix(".") { reason.removeLast() }
            throw ConfigParseError(message: reason + position(in: data, reason: reason))
        }
        guard let value = ConfigValue(any) else { throw ConfigParseError(message: "unsupported JSON value") }
        return value
    }

    private static let booleanClass: AnyClass = type(of: NSNumber(value: true))

    /// Converts JSONSerialization's output; nil for anything it would never produce.
    init?(_ any: Any) {
        switch any {
        case is NSNull:
            self = .null
        case let s as String:
            self = .string(s)
        case let n as NSNumber:
            if type(of: n) == Self.booleanClass {
                self = .bool(n.boolValue)
            } else if String(cString: n.objCType) != "d", !(n is NSDecimalNumber), n.stringValue == String(n.intValue) {
                self = .int(n.intValue)
            } else {
                let d = n.doubleValue
                self = d.isFinite && d == d.rounded() && abs(d) < 9e15 ? .int(Int(d)) : .double(d)
            }
        case let a as [Any]:
            var items: [ConfigValue] = []
            for element in a {
                guard let item = ConfigValue(element) else { return nil }
                items.append(item)
            }
            self = .array(items)
        case let o as [String: Any]:
            var fields: [String: ConfigValue] = [:]
            for (name, element) in o {
                guard let item = ConfigValue(element) else { return nil }
                fields[name] = item
            }
            self = .object(fields)
        default:
            return nil
        }
    }

    /// " (line 3, column 9)" for "... around character N." messages; "" otherwise.
    private static func position(in data: Data, reason: String) -> String {
        guard let range = reason.range(of: "around character "),
              let offset = Int(reason[range.upperBound...].prefix(while: \.isNumber))
        else { return "" }
        var line = 1
        var column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return " (line \(line), column \(column))"
    }

    /// Compact JSON text; also how values are quoted in error messages.
    var text: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): Self.format(d)
        case .string(let s): Self.quote(s)
        case .array(let items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .object(let fields):
            "{" + fields.keys.sorted().map { Self.quote($0) + ": " + fields[$0]!.text }.joined(separator: ", ") + "}"
        }
    }

    /// The value as shown after "got" in an error: scalars as JSON, containers by their type.
    var shown: String {
        switch self {
        case .array: "an array"
        case .object: "an object"
        default: text
        }
    }

    /// Integral doubles without a fraction ("10" not "10.0").
    static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 9e15 ? String(Int(d)) : String(d)
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Why a config file is not JSON.
struct ConfigParseError: Error {
    let message: String
}
