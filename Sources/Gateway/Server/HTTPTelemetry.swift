import Locks
import CLinux
import HTTP
import Synchronization
import Telemetry

/// HTTP requests by route and status, and request duration per reactor loop (for
/// /admin/metrics). A request is counted once its response is queued; its duration runs from
/// the moment its head was parsed to then (a deferred response includes its background work).
final class HTTPTelemetry: Sendable {
    struct Key: Hashable, Sendable {
        let route: Int32
        let status: Int32
    }

    /// Requests no route matched (404, 405, 501) or that never parsed (400, 408, 413, 431…).
    static let unmatched: Int32 = -1
    /// WebSocket upgrade requests (101 or the refusal's status).
    static let webSocket: Int32 = -2

    let requests = CountTable<Key>()
    /// One recorder per loop, stage "http"; each touched by its own loop's thread.
    let latency: [LatencyRecorder]
    private let routes = PThreadLocked<[(method: String, pattern: String)]>([])

    init(loops: Int) {
        let now = dfl_monotonic_ns()
        latency = (0..<max(1, loops)).map { _ in LatencyRecorder(stages: ["http"], nowNs: now) }
    }

    /// The router's table, so route indices can be named (set before the loops start).
    func setRoutes(_ table: [(method: HTTPMethod, pattern: String)]) {
        routes.withLock { $0 = table.map { ("\($0.method)", $0.pattern) } }
    }

    /// On a loop thread, once a response is queued. `startNs` 0 = count only.
    func record(route: Int32, status: Int, loop: Int, startNs: Int64) {
        requests.add(Key(route: route, status: Int32(clamping: status)))
        guard startNs != 0 else { return }
        let now = dfl_monotonic_ns()
        latency[loop % latency.count].record(0, now - startNs, nowNs: now)
    }

    /// (method, route) labels of a route index.
    func labels(_ route: Int32) -> (method: String, route: String) {
        switch route {
        case Self.unmatched: return ("-", "unmatched")
        case Self.webSocket: return ("GET", "websocket")
        default:
            return routes.withLock { table in
                table.indices.contains(Int(route)) ? (table[Int(route)].method, table[Int(route)].pattern) : ("-", "unmatched")
            }
        }
    }

    func snapshot(nowNs: Int64) -> LatencySnapshot {
        var merged = LatencySnapshot()
        for recorder in latency { merged.add(recorder.snapshot(0, nowNs: nowNs)) }
        return merged
    }
}
