/// Ticks the server-level tests post.
public enum TestTicks {
    /// NDJSON ticks for two symbols, one per 250 ms, with trends and reversals (1 s bars).
    public static func ndjson(count: Int, start: Int = 0) -> String {
        var state: UInt64 = 99
        var lines: [String] = []
        var prices = [1688.5, 10.52]
        for i in start..<(start + count) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let k = i % 2
            let regime = (i / 400) % 2 == 0 ? 1.0006 : 0.9994
            prices[k] *= regime * (1 + (Double(state >> 40 % 1000) / 1_000_000_000 - 0.0000005))
            let symbol = k == 0 ? "600519.SH" : "000001.SZ"
            let price = (prices[k] * 100).rounded() / 100
            let volume = 100 * (1 + Int(state >> 50) % 30) * (i % 97 == 0 ? 15 : 1)
            lines.append(#"{"symbol":"\#(symbol)","ts":\#(1_732_500_000_000 + i * 250),"price":\#(price),"volume":\#(volume)}"#)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
