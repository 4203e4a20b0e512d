/// Routes by method and path pattern: literal segments, `{name}` parameters and a trailing
/// `*` capturing the rest. When several patterns match, literal beats parameter beats
/// wildcard, segment by segment from the left. HEAD falls back to GET.
public struct Router<Handler: Sendable>: Sendable {
    enum Segment: Sendable, Equatable { case literal(String), parameter(String), rest }

    struct Route: Sendable {
        let method: HTTPMethod
        let segments: [Segment]
        let handler: Handler
    }

    public enum Match {
        case found(Handler, [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: Handler) {
        let segments: [Segment] = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            if part == "*" { return .rest }
            if part.hasPrefix("{") && part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    public func match(_ method: HTTPMethod, _ path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var best: (route: Route, rank: [Int], params: [String: String])?
        var bestGet: (route: Route, rank: [Int], params: [String: String])?
        var allowed: [HTTPMethod] = []
        for route in routes {
            guard let (rank, params) = Self.matches(route.segments, parts) else { continue }
            if !allowed.contains(route.method) { allowed.append(route.method) }
            if route.method == method, best.map({ rank.lexicographicallyPrecedes($0.rank) == false && rank != $0.rank }) ?? true {
                best = (route, rank, params)
            }
            if route.method == .get, bestGet.map({ rank.lexicographicallyPrecedes($0.rank) == false && rank != $0.rank }) ?? true {
                bestGet = (route, rank, params)
            }
        }
        if let best { return .found(best.route.handler, best.params) }
        if method == .head, let bestGet { return .found(bestGet.route.handler, bestGet.params) }
        if allowed.isEmpty { return .notFound }
        if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed)
    }

    /// Ranks a match: 2 per literal, 1 per parameter, 0 for the wildcard.
    private static func matches(_ segments: [Segment], _ parts: ArraySlice<Substring>) -> ([Int], [String: String])? {
        var rank: [Int] = []
        var params: [String: String] = [:]
        var i = parts.startIndex
        for (n, segment) in segments.enumerated() {
            switch segment {
            case .rest:
                guard n == segments.count - 1 else { return nil }
                params["*"] = parts[i...].joined(separator: "/")
                rank.append(0)
                return (rank, params)
            case .literal(let text):
                guard i < parts.endIndex, parts[i] == text else { return nil }
                rank.append(2)
            case .parameter(let name):
                guard i < parts.endIndex, !parts[i].isEmpty else { return nil }
                params[name] = String(parts[i])
                rank.append(1)
            }
            i += 1
        }
        return i == parts.endIndex ? (rank, params) : nil
    }
}
