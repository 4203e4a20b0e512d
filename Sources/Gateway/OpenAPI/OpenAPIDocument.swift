import Foundation
import HTTP

/// `GET /openapi.json`: the OpenAPI 3.1 description of every route as implemented (the shapes
/// come from `EventEncoder`, the routes from `APIRoutes`, `StrategyRoutes`, `HealthRoutes`,
/// `StaticRoutes` and the WebSocket upgrade). Built once at start-up; a test checks that every
/// registered route is described, and schemathesis checks live answers against it.
enum OpenAPIDocument {
    typealias Object = [String: Any]

    static func json(version: String) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: document(version: version),
                                                options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    static func document(version: String) -> Object {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "Dongfeng 东风破",
                "version": version,
                "description": """
                    Real-time trading-signal gateway: ticks in; features, strategy signals, de-duplicated opportunities \
                    and risk alerts out. Errors are {"error":{"code","message"}}. Sequenced events (signals, \
                    opportunities, alerts) share one strictly increasing seq.
                    """,
            ] as Object,
            "servers": [["url": "/"]],
            // OpenAPI describes request/response APIs; the WebSocket streams are described here
            // (a plain GET on them answers 426 upgrade_required).
            "x-websockets": [
                "/ws": webSocket("Event stream; subscribe by message or query"),
                "/ws/opportunities": webSocket("Event stream pre-subscribed to opportunities (the seed's path)"),
            ] as Object,
            "paths": paths,
            "components": [
                "schemas": Schemas.all,
                "responses": responses,
                "parameters": parameters,
                "securitySchemes": [
                    "adminToken": ["type": "http", "scheme": "bearer",
                                   "description": "admin.token / DFP_ADMIN_TOKEN; when unset, admin is loopback-only"],
                    "ingestKey": ["type": "apiKey", "in": "header", "name": "X-API-Key",
                                  "description": "api.ingest_key, when set"],
                ] as Object,
            ] as Object,
        ]
    }

    // MARK: - Builders

    static func ref(_ name: String) -> Object { ["$ref": "#/components/schemas/\(name)"] }
    static func response(_ name: String) -> Object { ["$ref": "#/components/responses/\(name)"] }
    static func parameter(_ name: String) -> Object { ["$ref": "#/components/parameters/\(name)"] }

    static func json(_ schema: Object, _ description: String) -> Object {
        ["description": description, "content": ["application/json": ["schema": schema]]]
    }

    static func query(_ name: String, _ schema: Object, _ description: String? = nil) -> Object {
        var p: Object = ["name": name, "in": "query", "schema": schema]
        if let description { p["description"] = description }
        return p
    }

    static func path(_ name: String) -> Object { ["name": name, "in": "path", "required": true, "schema": ["type": "string"]] }

    static let errorNames: [Int: String] = [400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
                                            413: "TooLarge", 415: "UnsupportedMediaType", 426: "UpgradeRequired", 503: "Busy"]

    static func errors(_ codes: [Int]) -> Object {
        Dictionary(uniqueKeysWithValues: codes.map { (String($0), response(errorNames[$0]!) as Any) })
    }

    static func operation(_ summary: String, tag: String, ok: Object, okStatus: Int = 200, errors codes: [Int] = [],
                          parameters: [Object] = [], security: [Object]? = nil, body: Object? = nil,
                          description: String? = nil) -> Object {
        var responses = errors(codes)
        responses[String(okStatus)] = ok
        var op: Object = ["summary": summary, "tags": [tag], "responses": responses]
        if !parameters.isEmpty { op["parameters"] = parameters }
        if let security { op["security"] = security }
        if let body { op["requestBody"] = body }
        if let description { op["description"] = description }
        return op
    }

    static var admin: [Object] { [["adminToken": [String]()]] }

    // MARK: - Paths

    static var paths: Object {
        let page: [Object] = [parameter("since_seq"), parameter("limit")]
        let opportunities = operation(
            "Opportunities, filtered, oldest first", tag: "events",
            ok: json(ref("OpportunityList"), "A page; continue with since_seq=next_since_seq."), errors: [400],
            parameters: [parameter("symbol"), query("direction", ["enum": ["long", "short"]]),
                         query("status", ["enum": ["new", "updated", "expired", "blocked"]]),
                         query("min_confidence", ["type": "number", "minimum": 0, "maximum": 1])] + page)
        var alias = opportunities
        alias["summary"] = "Alias of /api/v1/opportunities (the seed's path)"
        let health = operation("Liveness (the seed's form)", tag: "health", ok: json(ref("Health"), "The server is up."))
        let strategyName = [path("name")]
        return [
            "/health": ["get": health],
            "/gateway/health": ["get": health],
            "/admin/health": ["get": operation("Health with counters and components (admin); 503 when a component is degraded", tag: "admin",
                                               ok: json(ref("AdminHealth"), "Every component ok."), errors: [401, 403], security: admin)
                .merging(["responses": [
                    "200": json(ref("AdminHealth"), "Every component ok."),
                    "401": response("Unauthorized"), "403": response("Forbidden"),
                    "503": json(ref("AdminHealth"), "A component is degraded: see components.<name>.status and detail."),
                ] as Object]) { $1 }],
            "/admin/ready": ["get": operation("Readiness for load balancers (no credentials)", tag: "health",
                                              ok: json(Schemas.object(["ready": ["type": "boolean"]]), "Listening, pipeline running."))],
            "/api/v1/opportunities": ["get": opportunities],
            "/opportunities": ["get": alias],
            "/api/v1/opportunities/{id}": ["get": operation("One opportunity's latest state", tag: "events",
                                                            ok: json(ref("Opportunity"), "Found."), errors: [404],
                                                            parameters: [path("id")])],
            "/api/v1/signals": ["get": operation("Strategy signals", tag: "events", ok: json(ref("SignalList"), "A page."),
                                                 errors: [400], parameters: [parameter("symbol"), query("strategy", ["type": "string"])] + page)],
            "/api/v1/alerts": ["get": operation(
                "Risk alerts", tag: "events", ok: json(ref("AlertList"), "A page."), errors: [400],
                parameters: [parameter("symbol"), query("kind", ["type": "string"]),
                             query("severity", ["enum": ["info", "warning", "critical"]])] + page)],
            "/api/v1/symbols": ["get": operation("Symbols seen, with their last bar", tag: "market",
                                                 ok: json(ref("SymbolList"), "Every symbol."))],
            "/api/v1/symbols/{symbol}/bars": ["get": operation(
                "Recent bars of a symbol, oldest first", tag: "market", ok: json(ref("BarSeries"), "Bars."),
                errors: [400, 404], parameters: [path("symbol"), parameter("limit")])],
            "/api/v1/symbols/{symbol}/features": ["get": operation(
                "Recent features of a symbol, oldest first", tag: "market", ok: json(ref("FeatureSeries"), "Features."),
                errors: [400, 404], parameters: [path("symbol"), parameter("limit")])],
            "/api/v1/ticks": ["post": operation(
                "Ingest ticks", tag: "ingest", ok: json(ref("IngestResult"), "Accepted; rejected ticks listed by index with the reason."),
                okStatus: 202, errors: [400, 401, 403, 413, 415, 503], security: [[:], ["ingestKey": [String]()]],
                body: ["required": true, "content": [
                    "application/json": ["schema": ["oneOf": [ref("Tick"), ["type": "array", "items": ref("Tick"), "minItems": 1] as Object]]],
                    "application/x-ndjson": ["schema": ["type": "string", "pattern": "\\S",
                                                        "description": "one tick object per line; bad lines are rejected by index"],
                                             "example": #"{"symbol":"600519.SH","ts":1732500000123,"price":1688.5,"volume":1200}"# + "\n"],
                    "text/csv": ["schema": ["type": "string", "description": "a header row naming ts, symbol, price, volume (bid, ask optional) in any order"], "example": "ts,symbol,price,volume\n1732500000123,600519.SH,1688.5,1200\n"],
                ] as Object],
                description: "Each tick is validated; the valid ones enter the pipeline as one batch or not at all (503 + Retry-After when the ring is full). Order is checked by the engine (out_of_order risk alerts).")],
            "/api/v1/strategies": ["get": operation("Strategies and their settings", tag: "strategies",
                                                    ok: json(ref("StrategyList"), "All strategies, in the order they run on each bar."))],
            "/api/v1/strategies/{name}": [
                "get": operation("One strategy", tag: "strategies", ok: json(ref("Strategy"), "Found."), errors: [404],
                                 parameters: strategyName),
                "put": operation("Enable, disable or re-parameterise a strategy (admin); indicator state is kept", tag: "strategies",
                                 ok: json(ref("Strategy"), "The strategy after the change."), errors: [400, 401, 403, 404, 413],
                                 parameters: strategyName, security: admin,
                                 body: ["required": true, "content": ["application/json": ["schema": ref("StrategyUpdate")]]]),
            ] as Object,
            "/admin/metrics": ["get": operation("Prometheus metrics, text exposition 0.0.4 (admin)", tag: "admin",
                                                ok: ["description": "Counters and gauges.",
                                                     "content": ["text/plain": ["schema": ["type": "string"]]]],
                                                errors: [401, 403], security: admin)],
            "/admin/reload": ["post": operation("Re-read the strategies file (admin)", tag: "admin",
                                                ok: json(ref("ReloadResult"), "Reloaded."), errors: [400, 401, 403], security: admin)],
            "/admin/feed": ["get": operation("The built-in feed's state (admin)", tag: "admin",
                                             ok: json(ref("FeedState"), "The feed."), errors: [401, 403], security: admin)],
            "/admin/feed/pause": ["post": operation("Pause the simulator feed (admin): /admin/health reports the feed degraded", tag: "admin",
                                                    ok: json(ref("FeedState"), "Paused (or already paused)."), errors: [401, 403, 409],
                                                    security: admin)],
            "/admin/feed/resume": ["post": operation("Resume the simulator feed (admin)", tag: "admin",
                                                     ok: json(ref("FeedState"), "Running."), errors: [401, 403, 409], security: admin)],
            "/admin/log": [
                "get": operation("Log level, access log and format (admin)", tag: "admin", ok: json(ref("LogState"), "The settings."),
                                 errors: [401, 403], security: admin),
                "put": operation("Change the log level or the access log at runtime (admin)", tag: "admin",
                                 ok: json(ref("LogState"), "The settings after the change."), errors: [400, 401, 403, 413],
                                 security: admin,
                                 body: ["required": true, "content": ["application/json": ["schema": ref("LogUpdate")]]]),
            ] as Object,
            "/openapi.json": ["get": operation("This document", tag: "meta", ok: json(["type": "object"], "OpenAPI 3.1."))],
            "/": ["get": operation("The live page", tag: "page",
                                   ok: ["description": "index.html (gzip when accepted)", "content": ["text/html": ["schema": ["type": "string"]]]],
                                   errors: [404]).merging(["responses": pageResponses(html: true)]) { $1 }],
            "/{path}": ["get": operation("Files of the page from Public/ (nested paths too)", tag: "page", ok: [:],
                                         parameters: [path("path")]).merging(["responses": pageResponses(html: false)]) { $1 }],
        ]
    }

    static func pageResponses(html: Bool) -> Object {
        [
            "200": ["description": "The file with its MIME type, ETag, Last-Modified and Cache-Control.",
                    "content": html ? ["text/html": ["schema": ["type": "string"]]] : ["*/*": ["schema": [String: Any]()]]],
            "304": ["description": "Not modified (If-None-Match / If-Modified-Since)."],
            "404": response("NotFound"),
        ]
    }

    static func webSocket(_ summary: String) -> Object {
        operation(summary, tag: "streaming", ok: ["description": "Switched to WebSocket."], okStatus: 101, errors: [400, 403, 426],
                  parameters: [query("channels", ["type": "string"], "comma-separated: opportunities, signals, risk_alerts, ticks, bars, features"),
                               query("symbols", ["type": "string"], "comma-separated tick symbols (at most websocket.max_symbols, 1000 by default), or *"),
                               query("min_confidence", ["type": "number", "minimum": 0, "maximum": 1]),
                               query("since_seq", Schemas.seq, "replay every sequenced event after it, then continue live"),
                               query("cursor", ["type": "string", "pattern": "^[^,\\s]+:[0-9]+(,[^,\\s]+:[0-9]+)*$",
                                                "examples": ["gw-a:1042,gw-b:977"]],
                                     "several gateways (redis.url): the last seq received per origin, instance:seq pairs joined by commas; "
                                     + "replays every origin's events after its position (all that is held for an origin not named), "
                                     + "then continues live; any gateway of the deployment takes it. Not with since_seq.")],
                  description: """
                      WebSocket (RFC 6455, permessage-deflate) on the same TLS port. Server messages: hello, subscribed, \
                      opportunity|signal|risk_alert {seq,payload}, tick|bar|features {payload}, heartbeat, ack, pong, error. \
                      With several gateways sequenced events also carry instance (their origin, whose seq they carry), and \
                      hello and heartbeat carry cursor (the connection's position per origin). \
                      Client messages: subscribe, unsubscribe, ticks, ping. A plain GET (no Upgrade header) answers 426.
                      """)
    }

    // MARK: - Shared responses and parameters

    static var responses: Object {
        let error = ref("Error")
        return [
            "BadRequest": json(error, "A parameter or the body is invalid; the message names it."),
            "Unauthorized": json(error, "A credential is needed."),
            "Conflict": json(error, "The request does not apply to the server's current state (e.g. no built-in feed)."),
            "Forbidden": json(error, "The credential is wrong, or admin is loopback-only and the client is not local."),
            "NotFound": json(error, "No such resource."),
            "TooLarge": json(error, "The body is over http.max_body_bytes."),
            "UnsupportedMediaType": json(error, "The Content-Type is not one of the ingest formats."),
            "Busy": json(error, "The pipeline's ingest ring is full (nothing was accepted; Retry-After says when to retry) or the pipeline is not running.")
                .merging(["headers": ["Retry-After": ["schema": ["type": "integer"], "description": "seconds"]]]) { $1 },
            "UpgradeRequired": json(error, "Not a WebSocket upgrade, or not version 13.")
                .merging(["headers": ["Upgrade": ["schema": ["type": "string"]]]]) { $1 },
        ]
    }

    static var parameters: Object {
        [
            "symbol": query("symbol", ["type": "string"], "only this symbol"),
            "since_seq": query("since_seq", Schemas.seq, "events after this seq, oldest first; without it, the newest `limit` events"),
            "limit": query("limit", ["type": "integer", "minimum": 1, "maximum": 1000, "default": 100]),
        ]
    }
}

extension OpenAPIDocument {
    static func register(into router: inout Router<RouteHandler>) {
        let body = json(version: DongfengVersion.current)
        router.add(.get, "/openapi.json") { _ in .json(200, body) }
    }
}
