import Contracts
import Foundation

/// Tick JSON decoding: our scanner against Foundation's JSONDecoder on the same bytes.
enum TickBench {
    struct FoundationTick: Decodable {
        let symbol: String
        let ts: Int64
        let price: Double
        let volume: Double
        let bid: Double?
        let ask: Double?
    }

    static let object = Array(#"{"symbol":"600519.SH","ts":1732500000123,"price":1688.5,"volume":1200,"bid":1688.4,"ask":1688.6}"#.utf8)

    static func ndjson(lines: Int) -> [UInt8] {
        var out: [UInt8] = []
        for i in 0..<lines {
            out += Array(#"{"symbol":"600519.SH","ts":\#(1_732_500_000_000 + i),"price":\#(1688.5 + Double(i % 100) / 100),"volume":\#(100 + i % 7),"bid":1688.4,"ask":1690.6}"#.utf8)
            out.append(10)
        }
        return out
    }

    static func ours(_ iterations: Int) -> () -> Void {
        {
            var total = 0.0
            for _ in 0..<iterations {
                let r = TickDecoder.decode(object, format: .json)
                total += r.ticks[0].price
            }
            precondition(total > 0)
        }
    }

    static func foundation(_ iterations: Int) -> () -> Void {
        let data = Data(object)
        let decoder = JSONDecoder()
        return {
            var total = 0.0
            for _ in 0..<iterations {
                total += (try! decoder.decode(FoundationTick.self, from: data)).price
            }
            precondition(total > 0)
        }
    }

    static func oursNDJSON(_ batch: [UInt8], lines: Int, rounds: Int) -> () -> Void {
        {
            var count = 0
            for _ in 0..<rounds { count += TickDecoder.decode(batch, format: .ndjson).ticks.count }
            precondition(count == lines * rounds)
        }
    }
}
