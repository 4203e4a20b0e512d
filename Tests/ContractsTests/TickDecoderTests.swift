import Contracts
import XCTest

final class TickDecoderTests: XCTestCase {
    private func decode(_ text: String, _ format: TickFormat) -> TickDecodeResult {
        TickDecoder.decode(Array(text.utf8), format: format)
    }

    func testJSONObjectAndArray() {
        let one = decode(#"{"symbol":"600519.SH","ts":1732500000123,"price":1688.5,"volume":1200,"bid":1688.4,"ask":1688.6}"#, .json)
        XCTAssertEqual(one.ticks, [Tick(symbol: "600519.SH", ts: 1_732_500_000_123, price: 1688.5, volume: 1200, bid: 1688.4, ask: 1688.6)])
        XCTAssertNil(one.documentError)
        let many = decode(#"""
            [ {"symbol":"A","ts":1,"price":1,"volume":0,"exchange":{"code":"SSE","tags":[1,2,null]}},
              {"symbol":"B","ts":"2024-11-25T09:30:00.250+08:00","price":2.5,"volume":3,"bid":null},
              {"symbol":"C","ts":3,"price":-1,"volume":1},
              42,
              {"symbol":"D\u0041","ts":4,"price":1e2,"volume":0} ]
            """#, .json)
        XCTAssertEqual(many.ticks.map(\.symbol), ["A", "B", "DA"])
        XCTAssertEqual(many.ticks[1].ts, 1_732_498_200_250)
        XCTAssertEqual(many.ticks[2].price, 100)
        XCTAssertEqual(many.rejected.map(\.index), [2, 3])
        XCTAssertEqual(many.rejected[0].field, "price")
        XCTAssertNil(many.rejected[1].field)
    }

    func testEveryRejectionNamesItsField() {
        let cases: [(String, String)] = [
            (#"{"ts":1,"price":1,"volume":1}"#, "symbol"),
            (#"{"symbol":"A","price":1,"volume":1}"#, "ts"),
            (#"{"symbol":"A","ts":1,"volume":1}"#, "price"),
            (#"{"symbol":"A","ts":1,"price":1}"#, "volume"),
            (#"{"symbol":"A B","ts":1,"price":1,"volume":1}"#, "symbol"),
            (#"{"symbol":"","ts":1,"price":1,"volume":1}"#, "symbol"),
            (#"{"symbol":"\#(String(repeating: "X", count: 33))","ts":1,"price":1,"volume":1}"#, "symbol"),
            (#"{"symbol":7,"ts":1,"price":1,"volume":1}"#, "symbol"),
            (#"{"symbol":"A","ts":1.5,"price":1,"volume":1}"#, "ts"),
            (#"{"symbol":"A","ts":"2024-11-25T09:30:00","price":1,"volume":1}"#, "ts"),
            (#"{"symbol":"A","ts":"yesterday","price":1,"volume":1}"#, "ts"),
            (#"{"symbol":"A","ts":1,"price":0,"volume":1}"#, "price"),
            (#"{"symbol":"A","ts":1,"price":"1","volume":1}"#, "price"),
            (#"{"symbol":"A","ts":1,"price":1e999,"volume":1}"#, "price"),
            (#"{"symbol":"A","ts":1,"price":1,"volume":-1}"#, "volume"),
            (#"{"symbol":"A","ts":1,"price":1,"volume":1,"bid":2,"ask":1}"#, "bid"),
            (#"{"symbol":"A","ts":1,"price":1,"volume":1,"ask":0}"#, "ask"),
            (#"{"symbol":"A","symbol":"B","ts":1,"price":1,"volume":1}"#, "symbol"),
        ]
        for (json, field) in cases {
            let r = decode(json, .json)
            XCTAssertTrue(r.ticks.isEmpty, json)
            XCTAssertEqual(r.rejected.first?.field, field, json)
            XCTAssertFalse(r.rejected.first?.message.isEmpty ?? true)
        }
    }

    func testSyntaxErrorsAreDocumentErrors() {
        XCTAssertNotNil(decode(#"[{"symbol":"A","ts":1,"price":1,"volume":1},{"symbol":"#, .json).documentError)
        XCTAssertEqual(decode(#"[{"symbol":"A","ts":1,"price":1,"volume":1},{"symbol":"#, .json).ticks.count, 1)
        XCTAssertNotNil(decode("hello", .json).documentError)
        XCTAssertNotNil(decode(#"{"symbol":"A","ts":1,"price":1,"volume":1} x"#, .json).documentError)
    }

    func testNDJSONKeepsGoingPastBadLines() {
        let r = decode("""
            {"symbol":"A","ts":1,"price":1,"volume":1}

            {"symbol":"B","ts":2,"price":oops}
            {"symbol":"C","ts":3,"price":3,"volume":0}\r
            [1]
            {"symbol":"D","ts":4,"price":4,"volume":0} trailing
            """, .ndjson)
        XCTAssertEqual(r.ticks.map(\.symbol), ["A", "C"])
        XCTAssertEqual(r.rejected.map(\.index), [1, 3, 4])
        XCTAssertTrue(r.rejected[0].message.contains("line 3"), r.rejected[0].message)
    }

    func testCSVHeaderDrivenColumns() {
        let r = decode("""
            price,volume,symbol,ts,ask,bid,exchange\r
            1688.5,1200,600519.SH,1732500000123,1688.6,1688.4,SSE\r
            "10.5",3,"000001.SZ",2024-11-25T01:30:00Z,,,SZSE
            x,1,A,1,,,
            1,1,A,1
            1,1,A,2024-13-01T00:00:00Z,,,
            """, .csv)
        XCTAssertEqual(r.ticks, [
            Tick(symbol: "600519.SH", ts: 1_732_500_000_123, price: 1688.5, volume: 1200, bid: 1688.4, ask: 1688.6),
            Tick(symbol: "000001.SZ", ts: 1_732_498_200_000, price: 10.5, volume: 3),
        ])
        XCTAssertEqual(r.rejected.map(\.index), [2, 3, 4])
        XCTAssertEqual(r.rejected.map(\.field), ["price", nil, "ts"])
        XCTAssertTrue(r.rejected[1].message.contains("line 5"), r.rejected[1].message)
        XCTAssertNotNil(decode("symbol,price\nA,1\n", .csv).documentError)
        XCTAssertTrue(decode("symbol,price\nA,1\n", .csv).documentError?.contains("ts") ?? false)
        XCTAssertNotNil(decode("", .csv).documentError)
    }

    func testISO8601Forms() {
        let base: Int64 = 1_732_527_000_000  // 2024-11-25T09:30:00Z
        for (text, expected) in [("2024-11-25T09:30:00Z", base), ("2024-11-25 17:30:00+08:00", base),
                                 ("2024-11-25T04:30:00-0500", base), ("2024-11-25T09:30:00.5Z", base + 500),
                                 ("2024-11-25T09:30:00.123456789Z", base + 123), ("2024-02-29T00:00:00Z", 1_709_164_800_000)] {
            XCTAssertEqual(try? Timestamp.parseISO8601(text).get(), expected, text)
        }
        for bad in ["2023-02-29T00:00:00Z", "2024-11-25", "2024-11-25T09:30Z", "2024-11-25T09:30:00+8", "2024-11-25T25:00:00Z"] {
            XCTAssertNil(try? Timestamp.parseISO8601(bad).get(), bad)
        }
    }

    func testDecimalParsingMatchesTheStandardLibrary() {
        var state: UInt64 = 42
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let digits = Int(state >> 60) + 1
            let scale = Int((state >> 40) & 7)
            let mantissa = (state >> 3) % UInt64(pow(10.0, Double(min(digits, 18))))
            var text = String(mantissa)
            if scale > 0 && text.count > scale { text.insert(".", at: text.index(text.endIndex, offsetBy: -scale)) }
            let json = #"{"symbol":"A","ts":1,"price":\#(text == "0" ? "1" : text),"volume":\#(text)}"#
            let r = decode(json, .json)
            XCTAssertEqual(r.ticks.first?.volume, Double(text), text)
        }
        XCTAssertEqual(decode(#"{"symbol":"A","ts":1,"price":0.1,"volume":123456789012345678901234567890}"#, .json).ticks.first?.volume,
                       123456789012345678901234567890.0)
    }
}
