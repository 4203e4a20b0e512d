import Contracts
import Foundation
@testable import Pipeline
import XCTest

/// The store keeps each opportunity and alert with its JSON payload: what a list answer joins
/// must be exactly what encoding the event would give, for the events a query selects.
final class EventStoreFragmentTests: XCTestCase {
    private func opportunity(_ seq: UInt64, _ symbol: String) -> Opportunity {
        Opportunity(seq: seq, id: "op-\(seq)", symbol: symbol, direction: seq % 2 == 0 ? .long : .short, status: .new,
                    confidence: 0.5 + Double(seq) / 100, price: 10.25 * Double(seq), strategies: ["macd_cross", "rsi \"q\""],
                    signalCount: Int(seq), createdTs: 1_700_000_000_000 + Int64(seq), updatedTs: 1_700_000_000_000 + Int64(seq),
                    expiresTs: 1_700_000_060_000, riskStatus: .ok, riskAlerts: seq == 3 ? ["price_limit"] : [],
                    untradable: seq == 4 ? "limit_up" : nil)
    }

    func testFragmentsAreTheEventsEncodingAndFollowTheQuery() {
        let store = EventStore(capacity: 4)
        for seq in 1...6 as ClosedRange<UInt64> {
            store.record(.opportunity(opportunity(seq, seq % 3 == 0 ? "B" : "A")))
            store.record(.alert(RiskAlert(seq: 100 + seq, ts: Int64(seq), symbol: "A", kind: "price_jump", severity: .warning,
                                          message: "moved \(seq)%\n", value: Double(seq), threshold: 0.2)))
        }
        func encoded(_ o: Opportunity) -> [UInt8] {
            var w = JSONWriter()
            EventEncoder.payload(o, &w)
            return w.bytes
        }
        // Capacity 4: seq 3...6 held; the newest two of symbol A are 4 and 5.
        let latest = store.latestEncodedOpportunities(limit: 2) { $0.symbol == "A" }
        XCTAssertEqual(latest.map(\.event.seq), [4, 5])
        for item in latest { XCTAssertEqual(item.json, encoded(item.event)) }
        let after = store.encodedOpportunities(sinceSeq: 4, limit: 10)
        XCTAssertEqual(after.map(\.event.seq), [5, 6])
        XCTAssertEqual(after.map(\.json), after.map { encoded($0.event) })
        XCTAssertEqual(store.opportunities(sinceSeq: 0, limit: 10).map(\.seq), [3, 4, 5, 6])
        let alerts = store.latestEncodedAlerts(limit: 1)
        var w = JSONWriter()
        EventEncoder.payload(alerts[0].event, &w)
        XCTAssertEqual(alerts[0].json, w.bytes)
        XCTAssertEqual(alerts[0].event.seq, 106)

        // Joined into a list, the fragments read back as the events.
        var list = JSONWriter()
        list.beginArray()
        for item in after { list.raw(nil, item.json) }
        list.endArray()
        let parsed = try? JSONSerialization.jsonObject(with: Data(list.bytes)) as? [[String: Any]]
        XCTAssertEqual(parsed?.compactMap { $0["seq"] as? Int }, [5, 6])
    }

    /// Forward returns by signal and horizon: each horizon filled in as it comes, the oldest
    /// signals forgotten once `capacity` newer ones have returns, a horizon the store was not
    /// told of still answered.
    func testOutcomesFillByHorizonAndTheOldestSignalsAreForgotten() {
        let store = EventStore(capacity: 3, scoringHorizons: [1, 5, 20])
        func outcome(_ seq: UInt64, _ bars: Int, _ ret: Double) -> SignalOutcome {
            SignalOutcome(seq: seq, strategy: "s", bars: bars, ret: ret)
        }
        store.record(outcomes: [outcome(10, 1, 0.01), outcome(11, 1, -0.02)], scores: [])
        XCTAssertEqual(store.outcome(10), [1: 0.01])
        store.record(outcomes: [outcome(10, 5, 0.03), outcome(10, 7, 0.5)], scores: [])
        XCTAssertEqual(store.outcome(10), [1: 0.01, 5: 0.03, 7: 0.5])
        XCTAssertEqual(store.outcome(11), [1: -0.02])
        XCTAssertEqual(store.outcome(99), [:])
        // Two more signals: 10 is the oldest of four, so it goes; 11 stays.
        store.record(outcomes: [outcome(12, 1, 0.0), outcome(13, 20, -0.5)], scores: [])
        XCTAssertEqual(store.outcome(10), [:])
        XCTAssertEqual(store.outcome(11), [1: -0.02])
        XCTAssertEqual(store.outcome(12), [1: 0.0])
        XCTAssertEqual(store.outcome(13), [20: -0.5])
        // A forgotten signal's row is a new signal's: nothing of the old one shows through.
        store.record(outcomes: [outcome(14, 5, 0.25)], scores: [])
        XCTAssertEqual(store.outcome(11), [:])
        XCTAssertEqual(store.outcome(14), [5: 0.25])
    }
}
