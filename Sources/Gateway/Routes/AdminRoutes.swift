import Contracts
import Feeds
import Foundation
import HTTP
import Logging

/// Operator controls: the built-in feed (`/admin/feed`, pause and resume) and logging
/// (`/admin/log`: level and access log at runtime).
enum AdminRoutes {
    static func register(into router: inout Router<RouteHandler>, admin: AdminGuard, signals: SignalService,
                         logControl: LogControl, logger: Logger) {
        router.add(.get, "/admin/feed", admin.protect { _ in feedState(signals) })
        router.add(.post, "/admin/feed/pause", admin.protect { _ in
            guard let feed = signals.feed else { return noFeed(signals) }
            if !feed.paused.exchange(true, ordering: .relaxed) { logger.notice("\(feed.kind) feed paused by an admin request") }
            return feedState(signals)
        })
        router.add(.post, "/admin/feed/resume", admin.protect { _ in
            guard let feed = signals.feed else { return noFeed(signals) }
            if feed.paused.exchange(false, ordering: .relaxed) { logger.notice("\(feed.kind) feed resumed by an admin request") }
            return feedState(signals)
        })
        router.add(.get, "/admin/log", admin.protect { _ in logState(logControl) })
        router.add(.put, "/admin/log", admin.protect { context in
            guard case .success(.object(let body)) = JSONValue.parse(Data(context.request.body)), !body.isEmpty else {
                return .error(400, code: "invalid_body", message: #"body must be a JSON object such as {"level":"debug"} or {"access_log":true}"#)
            }
            var level: Logger.Level?
            var accessLog: Bool?
            for (key, value) in body {
                switch (key, value) {
                case ("level", .string(let name)):
                    guard let parsed = Logger.Level(rawValue: name) else {
                        return .error(400, code: "invalid_level", message: "level must be one of trace, debug, info, notice, warning, error, critical")
                    }
                    level = parsed
                case ("access_log", .bool(let on)): accessLog = on
                case ("level", _): return .error(400, code: "invalid_level", message: "level must be a string")
                case ("access_log", _): return .error(400, code: "invalid_body", message: "access_log must be true or false")
                default: return .error(400, code: "unknown_setting", message: "unknown setting \(key): level and access_log can change at runtime")
                }
            }
            if let level {
                // Said before the change, so it shows even when the new level hides notices.
                logger.notice("log level set to \(level) by an admin request (was \(logControl.level))")
                logControl.level = level
            }
            if let accessLog { logControl.accessLog = accessLog }
            return logState(logControl)
        })
    }

    private static func feedState(_ signals: SignalService) -> Response {
        var w = JSONWriter()
        w.beginObject()
        w.string("feed", signals.feed?.kind ?? signals.feedName)
        if let feed = signals.feed {
            w.bool("paused", feed.paused.load(ordering: .relaxed))
            if let simulator = feed as? SimulatorFeed { w.int("ticks_per_second", simulator.ticksPerSecond) }
            w.string("state", feed.state)
            w.int("published", feed.published.load(ordering: .relaxed))
        }
        w.endObject()
        return .json(200, w.bytes)
    }

    private static func noFeed(_ signals: SignalService) -> Response {
        .error(409, code: "no_feed", message: "feed is \(signals.feedName): there is no built-in feed to pause or resume")
    }

    private static func logState(_ control: LogControl) -> Response {
        var w = JSONWriter()
        w.beginObject()
        w.string("level", control.level.rawValue)
        w.bool("access_log", control.accessLog)
        w.string("format", control.format.rawValue)
        w.endObject()
        return .json(200, w.bytes)
    }
}
