/// Routes by method and path pattern: literal segments, `{name}` parameters and a trailing
/// `*` capturing the rest. When several patterns match, literal beats parameter beats
/// wildcard, segment by segment from the left. HEAD falls back to GET.
public struct Router<Handler: Sendable>: Sendable {
    @usableFromInline
    enum Segment: Sendable, Equatable { case literal(String), parameter(String), rest }

    @usableFromInline
    struct Route: Sendable {
        @usableFromInline let method: HTTPMethod
        @usableFromInline let segments: [Segment]
        @usableFromInline let handler: Handler
    }

    public enum Match {
        /// The handler, the path parameters and the route's index in `table` (for metrics).
        case found(Handler, [String: String], route: Int)
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    @usableFromInline var routes: [Route] = []
    /// The routes of each pattern made of literal segments only, by that pattern: a path equal
    /// to one belongs to it (no other pattern can rank higher: every segment already scores the
    /// most), so its match needs neither a split nor a scan of the table.
    @usableFromInline var literal: [String: [Int]] = [:]

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: Handler) {
        let segments: [Segment] = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            if part == "*" { return .rest }
            if part.hasPrefix("{") && part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
        if segments.allSatisfy({ if case .literal = $0 { true } else { false } }) {
            literal[pattern, default: []].append(routes.count - 1)
        }
    }

    /// Every route as (method, pattern), in the order added (for docs and their tests).
    public var table: [(method: HTTPMethod, pattern: String)] {
        routes.map { route in
            let parts = route.segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter(let name): "{\(name)}"
                case .rest: "*"
                }
            }
            return (route.method, "/" + parts.joined(separator: "/"))
        }
    }

    /// The path belongs to its most specific pattern(s): routes of a less specific pattern (the
    /// static files' `/*`) neither answer nor appear in `Allow` for it, so `GET /admin/reload`
    /// is 405 "Allow: POST", not a static-file 404.
    @inlinable
    public func match(_ method: HTTPMethod, _ path: String) -> Match {
        if let exact = literal[path] {
            // Every route of the path's own literal pattern ranks equal and above all others.
            var best: Int?
            var bestGet: Int?
            var allowedMask = 0
            var others: [HTTPMethod] = []
            for index in exact {
                let routeMethod = routes[index].method
                if let bit = Self.bit(routeMethod) { allowedMask |= bit } else if !others.contains(routeMethod) { others.append(routeMethod) }
                if routeMethod == method, best == nil { best = index }
                if routeMethod == .get, bestGet == nil { bestGet = index }
            }
            if let index = best ?? (method == .head ? bestGet : nil) { return .found(routes[index].handler, [:], route: index) }
            return Self.notAllowed(allowedMask, others)
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var top: UInt64 = 0
        var best: Int?
        var bestGet: Int?
        var allowedMask = 0
        var others: [HTTPMethod] = []
        for (index, route) in routes.enumerated() {
            guard let score = Self.score(route.segments, parts), score >= top else { continue }
            if score > top {
                top = score
                best = nil
                bestGet = nil
                allowedMask = 0
                others.removeAll()
            }
            if let bit = Self.bit(route.method) { allowedMask |= bit } else if !others.contains(route.method) { others.append(route.method) }
            if route.method == method, best == nil { best = index }
            if route.method == .get, bestGet == nil { bestGet = index }
        }
        if let index = best ?? (method == .head ? bestGet : nil) {
            return .found(routes[index].handler, Self.parameters(routes[index].segments, parts), route: index)
        }
        return Self.notAllowed(allowedMask, others)
    }

    /// No route of the path's pattern(s) takes the method: 405 with the ones that do, or 404.
    @inlinable
    static func notAllowed(_ mask: Int, _ others: [HTTPMethod]) -> Match {
        var allowedMask = mask
        if allowedMask == 0 && others.isEmpty { return .notFound }
        if allowedMask & Self.bit(.get)! != 0 { allowedMask |= Self.bit(.head)! }
        let known: [HTTPMethod] = [.get, .head, .post, .put, .delete, .options, .patch]
        return .methodNotAllowed(allowed: known.filter { allowedMask & Self.bit($0)! != 0 } + others)
    }

    @inlinable
    static func bit(_ method: HTTPMethod) -> Int? {
        switch method {
        case .get: 1
        case .head: 2
        case .post: 4
        case .put: 8
        case .delete: 16
        case .options: 32
        case .patch: 64
        case .other: nil
        }
    }

    /// A match's rank as one number, compared like a sequence from the left: two bits per
    /// segment (literal 3, parameter 2, wildcard 1), so no allocation per candidate route.
    @inlinable
    static func score(_ segments: [Segment], _ parts: ArraySlice<Substring>) -> UInt64? {
        var score: UInt64 = 0
        var used = 0
        var i = parts.startIndex
        for (n, segment) in segments.enumerated() {
            let value: UInt64
            switch segment {
            case .rest:
                guard n == segments.count - 1 else { return nil }
                i = parts.endIndex
                value = 1
            case .literal(let text):
                guard i < parts.endIndex, parts[i] == text else { return nil }
                i += 1
                value = 3
            case .parameter:
                guard i < parts.endIndex, !parts[i].isEmpty else { return nil }
                i += 1
                value = 2
            }
            if used < 31 {
                score = score << 2 | value
                used += 1
            }
        }
        guard i == parts.endIndex else { return nil }
        return score << UInt64(2 * (31 - used)) | 1  // never 0, so any match beats "none"
    }

    @inlinable
    static func parameters(_ segments: [Segment], _ parts: ArraySlice<Substring>) -> [String: String] {
        var params: [String: String] = [:]
        var i = parts.startIndex
        for segment in segments {
            switch segment {
            case .rest: params["*"] = parts[i...].joined(separator: "/")
                return params
            case .literal: i += 1
            case .parameter(let name):
                params[name] = String(parts[i])
                i += 1
            }
        }
        return params
    }
}
