import Foundation

/// A parsed JSON value for configuration files (not a hot path). JSONDecoder keeps booleans
/// and numbers apart; JSONSerialization on Linux does not (1 reads as `true`).
public enum JSONValue: Decodable, Equatable, Sendable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONValue {
    /// Parses a document; nil with the decoder's message on invalid JSON.
    public static func parse(_ data: Data) -> Result<JSONValue, Error> {
        Result { try JSONDecoder().decode(JSONValue.self, from: data) }
    }

    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// Compact text of a scalar (for settings listings).
    public var text: String {
        switch self {
        case .null: "null"
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s
        case .array(let a): "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object: "{…}"
        }
    }
}

extension JSONWriter {
    /// Any parsed value, objects with their keys sorted (settings echoed back to clients).
    public mutating func value(_ key: String?, _ v: JSONValue) {
        switch v {
        case .int(let i): int(key, i)
        case .double(let d): double(key, d)
        case .bool(let b): bool(key, b)
        case .string(let s): string(key, s)
        case .null: null(key)
        case .array(let items):
            beginArray(key)
            for item in items { value(nil, item) }
            endArray()
        case .object(let object):
            beginObject(key)
            for k in object.keys.sorted() { value(k, object[k]!) }
            endObject()
        }
    }
}
