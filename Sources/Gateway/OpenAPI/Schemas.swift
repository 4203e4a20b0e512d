/// JSON Schemas (2020-12, as OpenAPI 3.1 uses) of every body the API writes or reads, field
/// for field as `EventEncoder` and the route handlers write them (docs/CONTRACTS.md, "Data contract").
extension OpenAPIDocument {
    enum Schemas {
        static var number: Object { ["type": "number"] }
        /// `JSONWriter` writes a non-finite double as null.
        static var numberOrNull: Object { ["type": ["number", "null"]] }
        static var seq: Object { ["type": "integer", "minimum": 0, "maximum": UInt64.max] }
        static var ms: Object { ["type": "integer", "description": "milliseconds since the Unix epoch, UTC (market time)"] }
        static var string: Object { ["type": "string"] }
        static var direction: Object { ["enum": ["long", "short"]] }
        static var unit: Object { ["type": "number", "minimum": 0, "maximum": 1] }
        static let features = ["sma_20", "ema_12", "ema_26", "ema_50", "rsi_14", "macd", "macd_signal", "macd_hist",
                               "bb_upper", "bb_middle", "bb_lower", "atr_14", "stddev_20", "ret_1", "vwap_20", "volume_z_20"]

        /// A closed object: `required` defaults to every property.
        static func object(_ properties: KeyValuePairs<String, Object>, required: [String]? = nil, open: Bool = false,
                           _ description: String? = nil) -> Object {
            var o: Object = ["type": "object",
                             "properties": Dictionary(uniqueKeysWithValues: properties.map { ($0.key, $0.value as Any) }),
                             "required": required ?? properties.map(\.key),
                             "additionalProperties": open]
            if let description { o["description"] = description }
            return o
        }

        static func array(_ items: Object) -> Object { ["type": "array", "items": items] }
        static func page(_ item: String) -> Object { object(["items": array(ref(item)), "next_since_seq": seq]) }

        static var all: Object {
            var featureProperties: [String: Any] = ["symbol": string, "interval": string, "ts": ms, "close": number]
            for f in features { featureProperties[f] = numberOrNull }
            let health: KeyValuePairs<String, Object> = [
                "status": ["enum": ["ok", "degraded", "down"]], "version": string, "uptime_s": number,
                "connections": ["type": "integer", "minimum": 0], "loops": ["type": "integer", "minimum": 1],
            ]
            return [
                "Error": object(["error": object(["code": string, "message": string])],
                                "Every error answer: a stable machine code and a message for people."),
                "Tick": object(
                    ["symbol": ["type": "string", "minLength": 1, "maxLength": 32, "pattern": "^[A-Za-z0-9._:/-]+$"],
                     "ts": ["oneOf": [ms, ["type": "string", "description": "ISO-8601 with an offset",
                                          "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"] as Object]],
                     "price": ["type": "number", "exclusiveMinimum": 0], "volume": ["type": "number", "minimum": 0],
                     "bid": number, "ask": number],
                    required: ["symbol", "ts", "price", "volume"],
                    "A market tick. bid ≤ ask when both are given; a tick older than its symbol's last one becomes an out_of_order alert."),
                "Bar": object(["symbol": string, "interval": string, "start": ms, "open": number, "high": number,
                               "low": number, "close": number, "volume": number, "vwap": number,
                               "trades": ["type": "integer", "minimum": 1]], "A closed time bar."),
                "Features": ["type": "object", "properties": featureProperties, "required": Array(featureProperties.keys).sorted(),
                             "additionalProperties": false,
                             "description": "Indicators on a closed bar exactly as TA-Lib defines them; null while warming up."],
                "StrategySignal": object(["seq": seq, "ts": ms, "symbol": string, "strategy": string, "direction": direction,
                                          "strength": unit, "price": number, "reason": string,
                                          "outcome": array(object(["bars": ["type": "integer", "minimum": 1], "return": numberOrNull],
                                                                  "Forward return at a live scoring horizon: the close that many bars later over the signal's price, minus 1, sign turned for a short; null until known (or older than the scores kept)."))],
                                         required: ["seq", "ts", "symbol", "strategy", "direction", "strength", "price", "reason"]),
                "Opportunity": object(
                    ["seq": seq, "id": string, "symbol": string, "direction": direction,
                     "status": ["enum": ["new", "updated", "expired", "blocked"]], "confidence": unit, "price": number,
                     "strategies": array(string), "signal_count": ["type": "integer", "minimum": 1],
                     "created_ts": ms, "updated_ts": ms, "expires_ts": ms,
                     "risk": object(["status": ["enum": ["ok", "warn", "blocked"]], "alerts": array(string)]),
                     "untradable": ["type": ["string", "null"],
                                    "description": "limit_up or limit_down: a long at or near the daily up-limit (a short at the down-limit) could not be filled; null when tradable (docs/MARKETS.md)."]],
                    "The latest state of one (symbol, direction) episode; confidence = 1 − Π(1 − strength) over distinct strategies."),
                "RiskAlert": object(["seq": seq, "ts": ms, "symbol": ["type": ["string", "null"]],
                                     "kind": ["type": "string", "description": "stale_feed, price_jump, volatility_spike, signal_rate, wide_spread, out_of_order, off_session, price_limit"],
                                     "severity": ["enum": ["info", "warning", "critical"]], "message": string,
                                     "value": numberOrNull, "threshold": numberOrNull]),
                "OpportunityList": page("Opportunity"),
                "SignalList": page("StrategySignal"),
                "AlertList": page("RiskAlert"),
                "SymbolList": object(["items": array(object(["symbol": string, "last_bar": ref("Bar")], required: ["symbol"]))]),
                "BarSeries": object(["symbol": string, "items": array(ref("Bar"))]),
                "FeatureSeries": object(["symbol": string, "items": array(ref("Features"))]),
                "IngestResult": object(
                    ["accepted": ["type": "integer", "minimum": 0],
                     "rejected": array(object(["index": ["type": "integer", "minimum": 0], "error": string, "field": string],
                                              required: ["index", "error"])),
                     "warning": string],
                    required: ["accepted", "rejected"]),
                "Strategy": object(["name": string, "enabled": ["type": "boolean"], "kind": ["enum": ["builtin", "rule"]],
                                    "settings": ["type": "object",
                                                 "description": "A built-in's parameters in force, defaults included (none for macd_cross); a rule's when, direction, strength, and params, exit_when, hold_bars, stop_pct, take_pct when given. With enabled and the list's order, what a client needs to run the same strategies (dongfeng trigger does).",
                                                 "additionalProperties": ["type": ["number", "boolean", "string", "null", "object"],
                                                                          "additionalProperties": number]],
                                    "live_score": object(
                                        ["scored": ["type": "integer", "minimum": 0],
                                         "horizons": array(object(["bars": ["type": "integer", "minimum": 1],
                                                                   "count": ["type": "integer", "minimum": 0],
                                                                   "hit_rate": ["type": ["number", "null"], "minimum": 0, "maximum": 1],
                                                                   "mean_bps": numberOrNull]))],
                                        "Live scorecard: at each horizon (bars), hit rate and mean forward return over the latest scored signals (pipeline.score_window)."),
                                    "warm_up": object(["bars": ["type": "integer", "minimum": 0], "indicators": array(string)],
                                                      required: ["bars", "indicators"], open: false,
                                                      "After a PUT that added indicator calls: the held bars the new ones were warmed on.")],
                                   required: ["name", "enabled", "kind", "settings"]),
                "StrategyList": object(["items": array(ref("Strategy")), "interval": string,
                                        "interval_ms": ["type": "integer", "minimum": 1]]),
                "StrategyUpdate": [
                    "type": "object", "additionalProperties": false, "minProperties": 1, "example": ["enabled": false],
                    "description": "enabled, and settings the named strategy has (see GET; a setting of another strategy is a 400).",
                    "properties": [
                        "enabled": ["type": "boolean"],
                        "oversold": ["type": "number", "minimum": 0, "maximum": 100, "description": "rsi_reversal"],
                        "overbought": ["type": "number", "minimum": 0, "maximum": 100, "description": "rsi_reversal"],
                        "mode": ["enum": ["mean_reversion", "breakout"], "description": "bollinger"],
                        "lookback": ["type": "integer", "description": "momentum_breakout"],
                        "threshold": ["type": "number", "description": "volume_spike, vwap_deviation"],
                        "when": ["type": "string", "description": "rules: the expression"],
                        "params": ["type": "object", "additionalProperties": number,
                                   "description": "rules: named numbers the expression uses; given ones replace, others stay"],
                        "exit_when": ["type": "string", "description": "rules: backtest exit expression"],
                        "hold_bars": ["type": "integer", "minimum": 1, "description": "rules: backtest exit after this many bars"],
                        "stop_pct": ["type": "number", "exclusiveMinimum": 0, "maximum": 100, "description": "rules: backtest stop loss, % of entry"],
                        "take_pct": ["type": "number", "exclusiveMinimum": 0, "description": "rules: backtest take profit, % of entry"],
                        "direction": direction.merging(["description": "rules"]) { $1 },
                        "strength": unit.merging(["description": "rules"]) { $1 },
                    ] as Object,
                ],
                "Health": object(health),
                "AdminHealth": object(
                    ["status": ["enum": ["ok", "degraded", "down"]], "version": string, "uptime_s": number,
                     "connections": ["type": "integer", "minimum": 0], "loops": ["type": "integer", "minimum": 1],
                     "reactor": ["type": "object"], "tls": ["type": "object"], "rss_bytes": ["type": "integer"], "heap_bytes": ["type": "integer"], "websocket": ["type": "object"],
                     "components": ["type": "object", "additionalProperties": object(["status": ["enum": ["ok", "degraded", "down"]], "detail": string])],
                     "pipeline": ["type": "object"]],
                    required: ["status", "version", "uptime_s", "connections", "loops", "reactor", "tls", "rss_bytes", "heap_bytes"], open: true,
                    "Health plus reactor, TLS and pipeline counters."),
                "FeedState": object(["feed": ["enum": ["simulator", "none", "replay"]], "paused": ["type": "boolean"],
                                     "ticks_per_second": ["type": "integer"], "published": ["type": "integer"],
                                     "state": ["type": "string", "description": "running, finished (a replayed file that ended) or failed: why"]],
                                    required: ["feed"], "The built-in feed; paused, state and ticks sent, and the rate of the simulator."),
                "LogState": object(["level": ["enum": ["trace", "debug", "info", "notice", "warning", "error", "critical"]],
                                    "access_log": ["type": "boolean"], "format": ["enum": ["logfmt", "json"]]],
                                   required: ["level", "access_log", "format"]),
                "LogUpdate": [
                    "type": "object", "additionalProperties": false, "minProperties": 1, "example": ["level": "debug"],
                    "properties": [
                        "level": ["enum": ["trace", "debug", "info", "notice", "warning", "error", "critical"]],
                        "access_log": ["type": "boolean"],
                    ] as Object,
                ] as Object,
                "ReloadResult": object(["reloaded": string, "strategies": ["type": "integer"], "enabled": ["type": "integer"]]),
            ]
        }
    }
}
