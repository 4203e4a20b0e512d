import Contracts
import Foundation
import HTTP
import Pipeline

/// `GET /api/v1/strategies`, `PUT /api/v1/strategies/{name}` (admin) and `POST /admin/reload`
/// (admin): runtime changes replace strategy values only; indicator state is kept.
enum StrategyRoutes {
    static func register(into router: inout Router<RouteHandler>, service: SignalService, admin: AdminGuard) {
        router.add(.get, "/api/v1/strategies") { _ in describe(service.worker.strategies, interval: service.interval, store: service.store) }
        router.add(.get, "/api/v1/strategies/{name}") { context in
            let name = context.parameters["name"] ?? ""
            let registry = service.worker.strategies
            guard registry.entries.contains(where: { $0.strategy.name == name }) else {
                return .error(404, code: "not_found", message: "no strategy \(name)")
            }
            return describe(registry, only: name, store: service.store)
        }
        router.add(.put, "/api/v1/strategies/{name}", admin.protect { context in
            let name = context.parameters["name"] ?? ""
            guard service.worker.strategies.entries.contains(where: { $0.strategy.name == name }) else {
                return .error(404, code: "not_found", message: "no strategy \(name)")
            }
            guard case .success(.object(let settings)) = JSONValue.parse(Data(context.request.body)), !settings.isEmpty else {
                return .error(400, code: "invalid_body", message: "body must be a JSON object naming a setting, such as {\"enabled\": false}")
            }
            var registry = service.worker.strategies
            do throws(StrategyConfigError) {
                try registry.update(name, with: settings)
            } catch {
                let missing = error.message == "no such strategy"
                return .error(missing ? 404 : 400, code: missing ? "not_found" : "invalid_setting", message: error.description)
            }
            // New indicator calls warm up on the bars the server holds (the worker feeds them the
            // same bars when it applies the change, between two batches).
            let before = Set(service.worker.strategies.plan.instances)
            let fresh = registry.plan.instances.filter { !before.contains($0) }
            service.worker.updateStrategies(registry)
            return describe(registry, only: name, store: service.store, warmUpBars: fresh.isEmpty ? nil : service.store.mostBarsHeld)
        })
        router.add(.post, "/admin/reload", admin.protect { _ in
            do throws(GatewayError) {
                let registry = try SignalService.reloadStrategies(service.strategiesFile)
                service.worker.updateStrategies(registry)
                service.noteLoadedFromFile(registry)
                var w = JSONWriter()
                w.beginObject()
                w.string("reloaded", service.strategiesFile)
                w.int("strategies", registry.entries.count)
                w.int("enabled", registry.enabled.count)
                w.endObject()
                return .json(200, w.bytes)
            } catch {
                return .error(400, code: "invalid_strategies", message: error.description)
            }
        })
    }

    /// `warmUpBars`: after a change that added indicator calls, how many held bars the new
    /// instances are warmed on (`"warm_up":{"indicators":[…],"bars":N}`).
    /// Each strategy carries its live scorecard (`live_score`) from `store`.
    static func describe(_ registry: StrategyRegistry, only name: String? = nil, interval: BarInterval? = nil,
                         store: EventStore, warmUpBars: Int? = nil) -> Response {
        var w = JSONWriter()
        let scores = store.liveScores
        func entry(_ e: StrategyRegistry.Entry, extra: (inout JSONWriter) -> Void = { _ in }) {
            w.beginObject()
            w.string("name", e.strategy.name)
            w.bool("enabled", e.enabled)
            w.string("kind", StrategyRegistry.builtinNames.contains(e.strategy.name) ? "builtin" : "rule")
            w.beginObject("settings")
            for key in e.settings.keys.sorted() { w.value(key, e.settings[key]!) }
            w.endObject()
            liveScore(scores[e.strategy.name], horizons: store.scoringHorizons, &w)
            extra(&w)
            w.endObject()
        }
        if let name, let e = registry.entries.first(where: { $0.strategy.name == name }) {
            entry(e) { w in
                guard let warmUpBars else { return }
                w.beginObject("warm_up")
                w.int("bars", warmUpBars)
                w.beginArray("indicators")
                for call in registry.plan.slots { w.string(nil, call.description) }
                w.endArray()
                w.endObject()
            }
            return .json(200, w.bytes)
        }
        w.beginObject()
        if let interval {
            // Strategies run once per closed bar of this interval.
            w.string("interval", interval.label)
            w.int64("interval_ms", interval.milliseconds)
        }
        w.beginArray("items")
        for e in registry.entries { entry(e) }
        w.endArray()
        w.endObject()
        return .json(200, w.bytes)
    }

    /// `"live_score": {"scored": N, "horizons": [{"bars", "count", "hit_rate", "mean_bps"}]}`: hit
    /// rate and mean forward return (bps) over the strategy's latest scored signals at each horizon.
    static func liveScore(_ score: ScoreCard?, horizons: [Int], _ w: inout JSONWriter) {
        w.beginObject("live_score")
        w.int("scored", score?.scored ?? 0)
        w.beginArray("horizons")
        for (i, bars) in horizons.enumerated() {
            let h = score.flatMap { i < $0.horizons.count ? $0.horizons[i] : nil }
            w.beginObject()
            w.int("bars", bars)
            w.int("count", h?.count ?? 0)
            w.optionalDouble("hit_rate", h?.hitRate)
            w.optionalDouble("mean_bps", h?.meanBps)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }
}
