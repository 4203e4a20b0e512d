import Contracts
import Foundation
import HTTP
import Pipeline
import Store

/// The REST API (docs/CONTRACTS.md, "REST API") over the pipeline's query store and ingest rings.
///
/// Lists: without `since_seq` they return the newest `limit` matching events (oldest first) and
/// `next_since_seq` = the newest seq known, so a poller continues from now; with `since_seq`
/// they return matching events after it, oldest first, and `next_since_seq` = the seq of the
/// last event scanned, so paging never skips or repeats.
enum APIRoutes {
    static let maxLimit = 1000
    static let defaultLimit = 100

    static func register(into router: inout Router<RouteHandler>, service: SignalService, inputs: [TickInput],
                         admin: AdminGuard, ingestGuard: IngestGuard) {
        let store = service.store
        let journal = service.journal
        let cache = ResponseCache()
        let opportunities: RouteHandler = { context in
            cache.respond(key: context.request.target, store: store) { query(context) { q throws(APIError) in
                let symbol = q["symbol"]
                let direction = try q["direction"].map { d throws(APIError) in
                    guard let v = Direction(rawValue: d) else { throw APIError.parameter("direction", "must be long or short") }
                    return v
                }
                let status = try q["status"].map { s throws(APIError) in
                    guard let v = OpportunityStatus(rawValue: s) else {
                        throw APIError.parameter("status", "must be new, updated, expired or blocked")
                    }
                    return v
                }
                let minConfidence = try double(q, "min_confidence", in: 0...1)
                let filter: @Sendable (Opportunity) -> Bool = { o in
                    (symbol == nil || o.symbol == symbol) && (direction == nil || o.direction == direction)
                        && (status == nil || o.status == status) && o.confidence >= (minConfidence ?? 0)
                }
                return try fragments(q, store: store, journal: journal,
                                     latest: { store.latestEncodedOpportunities(limit: $0, where: filter) },
                                     after: { store.encodedOpportunities(sinceSeq: $0, limit: $1, where: filter) },
                                     seq: { $0.seq }, pick: { if case .opportunity(let o) = $0, filter(o) { o } else { nil } },
                                     payload: { EventEncoder.payload($0, &$1) })
            } }
        }
        router.add(.get, "/api/v1/opportunities", opportunities)
        router.add(.get, "/opportunities", opportunities)
        router.add(.get, "/api/v1/opportunities/{id}") { context in
            guard let o = store.opportunity(id: context.parameters["id"] ?? "") else {
                return .error(404, code: "not_found", message: "no opportunity \(context.parameters["id"] ?? "")")
            }
            var w = JSONWriter()
            EventEncoder.payload(o, &w)
            return .json(200, w.bytes)
        }
        router.add(.get, "/api/v1/signals") { context in
            cache.respond(key: context.request.target, store: store) { query(context) { q throws(APIError) in
                let symbol = q["symbol"], strategy = q["strategy"]
                let filter: @Sendable (StrategySignal) -> Bool = { s in
                    (symbol == nil || s.symbol == symbol) && (strategy == nil || s.strategy == strategy)
                }
                return try list(q, store: store, journal: journal, latest: { store.latestSignals(limit: $0, where: filter) },
                                after: { store.signals(sinceSeq: $0, limit: $1, where: filter) },
                                seq: { $0.seq }, fromJournal: { if case .signal(let x) = $0, filter(x) { x } else { nil } },
                                encode: { signal, w in
                                    // Its forward return at each live scoring horizon, null until known.
                                    let known = store.outcome(signal.seq)
                                    EventEncoder.payload(signal, &w) { w in
                                        w.beginArray("outcome")
                                        for h in store.scoringHorizons {
                                            w.beginObject()
                                            w.int("bars", h)
                                            w.optionalDouble("return", known[h])
                                            w.endObject()
                                        }
                                        w.endArray()
                                    }
                                })
            } }
        }
        router.add(.get, "/api/v1/alerts") { context in
            cache.respond(key: context.request.target, store: store) { query(context) { q throws(APIError) in
                let symbol = q["symbol"], kind = q["kind"]
                let severity = try q["severity"].map { s throws(APIError) in
                    guard let v = RiskSeverity(rawValue: s) else { throw APIError.parameter("severity", "must be info, warning or critical") }
                    return v
                }
                let filter: @Sendable (RiskAlert) -> Bool = { a in
                    (symbol == nil || a.symbol == symbol) && (kind == nil || a.kind == kind) && (severity == nil || a.severity == severity)
                }
                return try fragments(q, store: store, journal: journal,
                                     latest: { store.latestEncodedAlerts(limit: $0, where: filter) },
                                     after: { store.encodedAlerts(sinceSeq: $0, limit: $1, where: filter) },
                                     seq: { $0.seq }, pick: { if case .alert(let a) = $0, filter(a) { a } else { nil } },
                                     payload: { EventEncoder.payload($0, &$1) })
            } }
        }
        router.add(.get, "/api/v1/symbols") { _ in
            var w = JSONWriter()
            w.beginObject()
            w.beginArray("items")
            for symbol in store.symbols {
                w.beginObject()
                w.string("symbol", symbol)
                if let bar = store.latestBar(symbol) { EventEncoder.payload(bar, &w, key: "last_bar") }
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return .json(200, w.bytes)
        }
        router.add(.get, "/api/v1/symbols/{symbol}/bars") { context in
            series(context, store: store) { symbol, limit, w in
                for bar in store.bars(symbol, limit: limit) { EventEncoder.payload(bar, &w) }
            }
        }
        router.add(.get, "/api/v1/symbols/{symbol}/features") { context in
            series(context, store: store) { symbol, limit, w in
                for f in store.features(symbol, limit: limit) { EventEncoder.payload(f, &w) }
            }
        }
        router.add(.post, "/api/v1/ticks") { context in
            TickIngest.accept(context, inputs: inputs, guard: ingestGuard)
        }
        StrategyRoutes.register(into: &router, service: service, admin: admin)
    }

    /// Parses the query, runs `body`, and maps parameter errors to 400 naming the parameter.
    static func query(_ context: RequestContext, _ body: (QueryParameters) throws(APIError) -> Response) -> Response {
        do throws(APIError) {
            let q: QueryParameters
            do { q = try context.query() } catch { throw APIError.parameter(error.parameter, error.message) }
            return try body(q)
        } catch {
            return error.response
        }
    }

    static func list<T: Sendable>(_ q: QueryParameters, store: EventStore, journal: Journal?, latest: (Int) -> [T],
                                  after: @escaping @Sendable (UInt64, Int) -> [T], seq: @escaping @Sendable (T) -> UInt64,
                                  fromJournal: @escaping @Sendable (PipelineEvent) -> T?,
                                  encode: @escaping @Sendable (T, inout JSONWriter) -> Void) throws(APIError) -> Response {
        let limit = try integer(q, "limit", in: 1...maxLimit) ?? defaultLimit
        let since = try q["since_seq"].map { text throws(APIError) in
            guard let v = UInt64(text) else { throw APIError.parameter("since_seq", "must be a non-negative integer") }
            return v
        }
        guard let since else { return render(latest(limit), next: store.lastSeq, encode) }
        if let journal, let start = store.historyStartsAt, since + 1 < start {
            // Older than memory: page through the journal off the reactor, then on into memory.
            return .later {
                var items: [T] = []
                var cursor = since
                reading: while items.count < limit && cursor + 1 < start {
                    let (records, _) = journal.read(after: cursor, upTo: start - 1, limit: 4096)
                    if records.isEmpty { break }
                    for record in records {
                        cursor = record.seq
                        if let event = EventDecoder.decode(record.payload)?.event, let item = fromJournal(event) {
                            items.append(item)
                            if items.count == limit { break reading }
                        }
                    }
                }
                if items.count < limit { items += after(max(cursor, since), limit - items.count) }
                return render(items, next: items.last.map(seq) ?? since, encode)
            }
        }
        let items = after(since, limit)
        return render(items, next: items.last.map(seq) ?? since, encode)
    }

    /// A `list` of stored events, answered with the JSON fragments the store keeps (events paged
    /// from the journal are encoded as they are read).
    static func fragments<E: Sendable>(_ q: QueryParameters, store: EventStore, journal: Journal?, latest: (Int) -> [Encoded<E>],
                                       after: @escaping @Sendable (UInt64, Int) -> [Encoded<E>],
                                       seq: @escaping @Sendable (E) -> UInt64, pick: @escaping @Sendable (PipelineEvent) -> E?,
                                       payload: @escaping @Sendable (E, inout JSONWriter) -> Void) throws(APIError) -> Response {
        try list(q, store: store, journal: journal, latest: latest, after: after, seq: { seq($0.event) },
                 fromJournal: { event in pick(event).map { e in Encoded(event: e, json: EventStore.fragment { payload(e, &$0) }) } },
                 encode: { $1.raw(nil, $0.json) })
    }

    private static func render<T>(_ items: [T], next: UInt64, _ encode: (T, inout JSONWriter) -> Void) -> Response {
        var w = JSONWriter(capacity: 256 * (items.count + 1))
        w.beginObject()
        w.beginArray("items")
        for item in items { encode(item, &w) }
        w.endArray()
        w.uint64("next_since_seq", next)
        w.endObject()
        return .json(200, w.bytes)
    }

    private static func series(_ context: RequestContext, store: EventStore,
                               _ body: (String, Int, inout JSONWriter) -> Void) -> Response {
        query(context) { q throws(APIError) in
            let symbol = context.parameters["symbol"] ?? ""
            guard store.latestBar(symbol) != nil else {
                throw APIError(status: 404, code: "not_found", message: "no data for symbol \(symbol)")
            }
            let limit = try integer(q, "limit", in: 1...maxLimit) ?? defaultLimit
            var w = JSONWriter()
            w.beginObject()
            w.string("symbol", symbol)
            w.beginArray("items")
            body(symbol, limit, &w)
            w.endArray()
            w.endObject()
            return .json(200, w.bytes)
        }
    }

    static func integer(_ q: QueryParameters, _ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = q[name] else { return nil }
        guard let v = Int(text), range.contains(v) else {
            throw APIError.parameter(name, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    static func double(_ q: QueryParameters, _ name: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let text = q[name] else { return nil }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw APIError.parameter(name, "must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }
}

/// An API failure with its status and JSON error.
struct APIError: Error {
    let status: Int
    let code: String
    let message: String

    static func parameter(_ name: String, _ message: String) -> APIError {
        APIError(status: 400, code: "invalid_parameter", message: "\(name): \(message)")
    }

    var response: Response { .error(status, code: code, message: message) }
}
