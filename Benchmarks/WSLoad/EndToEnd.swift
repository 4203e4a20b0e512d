import CLinux
import Foundation
import Histogram

/// HTTPS POST tick → WSS opportunity, on loopback, at a paced offered rate.
///
/// The server runs with 1 ms bars and one rule that fires on every other bar of a zig-zag
/// series (Benchmarks/e2e-strategies.json), so every second tick that closes a bar makes an
/// opportunity update. A bar closes when the next tick arrives; the update carries the bar's
/// close (a price unique to its tick), which names the closing tick, whose POST's send time
/// starts the clock. One thread sends (keep-alive, the ticks due at each moment in one POST),
/// one receives (a plain WSS client on /ws/opportunities).
enum EndToEnd {
    static func run(port: Int, rate: Int, seconds: Int, warmup: Int) throws {
        let total = warmup + rate * seconds
        let base = 100.0
        var prices: [Double] = []
        prices.reserveCapacity(total)
        for i in 0..<total {
            let zig: Double = i % 2 == 1 ? 1.0 : 0.0
            prices.append(base + zig + Double(i) * 0.0001)
        }
        var byPrice: [Double: Int] = [:]
        byPrice.reserveCapacity(total)
        for (i, p) in prices.enumerated() { byPrice[p] = i }
        let index = byPrice
        let sendTimes = SendTimes(count: total)
        let symbol = "BENCH.\(Int(dfl_monotonic_ms()) % 100_000)"  // a fresh symbol: no earlier bars
        let startTs: Int64 = 1_732_500_000_000

        let receiver = try BlockingTLS(port: port)
        try receiver.upgrade(path: "/ws/opportunities?symbols=\(symbol)")
        let done = DispatchSemaphore(value: 0)
        let results = Results()
        Thread.detachNewThread {
            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            var received = 0
            let needle = Array("\"price\":".utf8)
            while true {
                guard let message = try? receiver.nextMessage() else { break }
                if getenv("WSLOAD_DEBUG") != nil { FileHandle.standardError.write(Data((String(decoding: message.prefix(120), as: UTF8.self) + "\n").utf8)) }
                let now = dfl_monotonic_ns()
                guard message.count > 30, let at = BlockingTLS.find(message, needle) else { continue }
                var end = at + needle.count
                while end < message.count, message[end] != UInt8(ascii: ","), message[end] != UInt8(ascii: "}") { end += 1 }
                guard let price = Double(String(decoding: message[(at + needle.count)..<end], as: UTF8.self)),
                      let i = index[price], i + 1 < total else { continue }
                let sent = sendTimes.get(i + 1)
                received += 1
                if i >= warmup, sent > 0 { histogram.record(UInt64(max(0, now - sent))) }
                if i + 3 >= total { break }  // the last bar with a signal (odd i, closed by i + 1)
            }
            results.set(histogram, received)
            done.signal()
        }

        let sender = try BlockingTLS(port: port)
        let t0 = dfl_monotonic_ns()
        var sent = 0
        var posts = 0
        while sent < total {
            // Warm-up goes at the same rate; the histogram skips it.
            let due = min(total, Int(Double(dfl_monotonic_ns() - t0) * Double(rate) / 1e9) + 1)
            if due <= sent {
                let nextAt = t0 + Int64(Double(sent) * 1e9 / Double(rate))
                let wait = nextAt - dfl_monotonic_ns()
                if wait > 100_000 { usleep(UInt32((wait - 50_000) / 1000)) }
                continue
            }
            var body = "["
            for i in sent..<due {
                if i > sent { body += "," }
                body += #"{"symbol":"\#(symbol)","ts":\#(startTs + Int64(i)),"price":\#(prices[i]),"volume":100}"#
            }
            body += "]"
            let request = Array("POST /api/v1/ticks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
            let now = dfl_monotonic_ns()
            for i in sent..<due { sendTimes.set(i, now) }
            try sender.send(request)
            let (status, response) = try sender.readResponse()
            guard status == 202 else { throw LoadError("POST answered \(status): \(String(decoding: response, as: UTF8.self))") }
            sent = due
            posts += 1
        }
        let elapsed = Double(dfl_monotonic_ns() - t0) / 1e9
        if done.wait(timeout: .now() + 10) == .timedOut {
            say("warning: the last opportunities did not arrive within 10 s")
            receiver.shutdown()
            done.wait()
        }
        let (histogram, received) = results.get()
        func us(_ q: Double) -> String { String(format: "%.1f", Double(histogram.valueAtPercentile(q)) / 1000) }
        say(String(format: "e2e offered %d ticks/s: sent %d ticks in %d POSTs over %.1f s (%.0f ticks/s achieved); %d opportunities",
                     rate, total, posts, elapsed, Double(total) / elapsed, received))
        say("e2e latency POST→WSS opportunity (µs): p50 \(us(50)) p90 \(us(90)) p99 \(us(99)) p99.9 \(us(99.9)) max \(us(100)) n=\(histogram.totalCount)")
    }
}

/// Send times by tick index: written by the sender before each POST, read by the receiver after
/// the server's answer to it arrived (the sockets order the two).
final class SendTimes: @unchecked Sendable {
    private let times: UnsafeMutablePointer<Int64>
    init(count: Int) {
        times = .allocate(capacity: count)
        times.initialize(repeating: 0, count: count)
    }
    func set(_ i: Int, _ t: Int64) { times[i] = t }
    func get(_ i: Int) -> Int64 { times[i] }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private var received = 0
    func set(_ h: Histogram<UInt64>, _ n: Int) { lock.lock(); histogram = h; received = n; lock.unlock() }
    func get() -> (Histogram<UInt64>, Int) { lock.lock(); defer { lock.unlock() }; return (histogram, received) }
}
