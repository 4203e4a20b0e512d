/// Where a streaming client resumes across gateways: the last seq it saw from each origin
/// (each gateway numbers its own sequenced events). Text form `instance:seq[,instance:seq…]`,
/// e.g. `gw-a:1042,gw-b:977`; an instance name is split from its seq at the last colon, so
/// a name may hold colons but not commas. Clients build it from the `instance` and `seq` of
/// the frames they received (or take the `cursor` of `hello`, a heartbeat or a 1013 close).
public struct ResumeCursor: Sendable, Equatable {
    public var positions: [String: UInt64]

    public init(_ positions: [String: UInt64] = [:]) { self.positions = positions }

    /// At most this many origins (a cursor is held per connection while it resumes).
    public static let maxOrigins = 256
    public static let maxNameBytes = 128

    /// Parses the text form; the message says what is wrong.
    public init(parsing text: String) throws(StreamCommand.Failure) {
        func fail(_ message: String) -> StreamCommand.Failure {
            StreamCommand.Failure(code: "invalid_subscription", message: "cursor: \(message)")
        }
        positions = [:]
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !text.isEmpty else { throw fail("empty; give instance:seq pairs separated by commas") }
        guard parts.count <= Self.maxOrigins else { throw fail("\(parts.count) origins; at most \(Self.maxOrigins)") }
        for part in parts {
            guard let colon = part.lastIndex(of: ":") else {
                throw fail("\(String(part.prefix(64)).debugDescription) is not instance:seq")
            }
            let name = String(part[..<colon])
            guard let seq = UInt64(part[part.index(after: colon)...]) else {
                throw fail("the seq of \(String(name.prefix(64)).debugDescription) is not a non-negative integer")
            }
            if let problem = Self.nameProblem(name) { throw fail("instance \(String(name.prefix(64)).debugDescription) \(problem)") }
            guard positions.updateValue(seq, forKey: name) == nil else {
                throw fail("instance \(name.debugDescription) is named twice")
            }
        }
    }

    /// Why a name cannot be an instance in a cursor (nil: it can).
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maxNameBytes { return "is longer than \(maxNameBytes) bytes" }
        if name.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 <= 0x20 || $0 == 0x7F }) {
            return "holds a comma, a space or a control character"
        }
        return nil
    }

    /// The text form, origins in name order (stable for logs and tests).
    public var text: String {
        positions.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }
}
