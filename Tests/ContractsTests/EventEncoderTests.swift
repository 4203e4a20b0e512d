import Contracts
import Foundation
import XCTest

final class EventEncoderTests: XCTestCase {
    private func text(_ build: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        build(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    func testBarAndFeaturesShapes() throws {
        let bar = Bar(symbol: "600519.SH", interval: "1m", start: 1_732_500_000_000, open: 1688.5, high: 1690, low: 1688,
                      close: 1689.25, volume: 1200, vwap: 1689.1, trades: 7)
        XCTAssertEqual(text { w in EventEncoder.envelope(type: "bar", &w) { EventEncoder.payload(bar, &$0, key: "payload") } },
                       #"{"type":"bar","payload":{"symbol":"600519.SH","interval":"1m","start":1732500000000,"open":1688.5,"high":1690.0,"low":1688.0,"close":1689.25,"volume":1200.0,"vwap":1689.1,"trades":7}}"#)
        var f = Features(symbol: "A", interval: "1s", ts: 5, close: 2)
        f.rsi14 = 55.5
        let json = text { EventEncoder.payload(f, &$0) }
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object.count, 20)
        XCTAssertEqual(object["rsi_14"] as? Double, 55.5)
        XCTAssertTrue(object["sma_20"] is NSNull, "warming up is null")
        for key in ["ema_12", "ema_26", "ema_50", "macd", "macd_signal", "macd_hist", "bb_upper", "bb_middle", "bb_lower",
                    "atr_14", "stddev_20", "ret_1", "vwap_20", "volume_z_20"] {
            XCTAssertNotNil(object[key], key)
        }
    }

    func testSequencedEventShapes() throws {
        let o = Opportunity(seq: 42, id: "600519.SH-long-1732500000000", symbol: "600519.SH", direction: .long, status: .new,
                            confidence: 0.75, price: 1688.5, strategies: ["rsi_reversal", "macd_cross"], signalCount: 2,
                            createdTs: 1, updatedTs: 2, expiresTs: 3, riskStatus: .warn, riskAlerts: ["wide_spread"])
        XCTAssertEqual(text { w in EventEncoder.sequencedEnvelope(type: "opportunity", seq: o.seq, &w) { EventEncoder.payload(o, &$0, key: "payload") } },
                       #"{"type":"opportunity","seq":42,"payload":{"seq":42,"id":"600519.SH-long-1732500000000","symbol":"600519.SH","direction":"long","status":"new","confidence":0.75,"price":1688.5,"strategies":["rsi_reversal","macd_cross"],"signal_count":2,"created_ts":1,"updated_ts":2,"expires_ts":3,"risk":{"status":"warn","alerts":["wide_spread"]},"untradable":null}}"#)
        let s = StrategySignal(seq: 7, ts: 9, symbol: "A", strategy: "rsi_reversal", direction: .short, strength: 0.5, price: 10,
                               reason: "RSI 71.2 crossed back below 70 \"overbought\"")
        let signal = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text { EventEncoder.payload(s, &$0) }.utf8)) as? [String: Any])
        XCTAssertEqual(signal["reason"] as? String, "RSI 71.2 crossed back below 70 \"overbought\"")
        XCTAssertEqual(signal["direction"] as? String, "short")
        let a = RiskAlert(seq: 8, ts: 9, symbol: nil, kind: "signal_rate", severity: .warning, message: "m", value: 12, threshold: 10)
        XCTAssertEqual(text { EventEncoder.payload(a, &$0) },
                       #"{"seq":8,"ts":9,"symbol":null,"kind":"signal_rate","severity":"warning","message":"m","value":12.0,"threshold":10.0}"#)
    }

    func testNonFiniteNumbersBecomeNull() {
        XCTAssertEqual(text { w in w.beginObject(); w.double("x", .nan); w.optionalDouble("y", .infinity); w.endObject() },
                       #"{"x":null,"y":null}"#)
    }
}
