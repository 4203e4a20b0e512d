import CLinux
import Foundation
import Histogram

/// Fan-out delivery latency, publish → receive. A publisher thread ingests one probe tick at a
/// time over its own WSS connection (`{"op":"ticks"}`, the same message for Dongfeng and for the
/// Python peer), stamping its send time; every subscriber that reads the tick back records
/// now − send time. The probe's symbol is unique to the run and its `volume` is its index, so a
/// subscriber finds the send time without any lookup table of its own.
///
/// Only uncompressed frames can be read without inflating them, so with permessage-deflate the
/// figures come from extra probe subscribers that do not negotiate it (connected last, so they
/// sit at the end of the server's subscriber list).
final class Probe: @unchecked Sendable {
    let symbol: String
    /// `{"type":"tick","payload":{"symbol":"` then the probe symbol: where a tick message names it.
    let marker: [UInt8]
    let markerOffset = 36
    /// Where the probe's index follows.
    private let volumeKey = Array("\"volume\":".utf8)
    private let sendTimes: SendTimes
    let capacity: Int
    private let lock = NSLock()
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    init(capacity: Int) {
        symbol = "PROBE.\(getpid() % 100_000).\(Int(dfl_monotonic_ms()) % 100_000)"
        marker = Array((symbol + "\"").utf8)
        self.capacity = capacity
        sendTimes = SendTimes(count: capacity)
    }

    /// Called by a subscriber for each uncompressed text message; cheap when it is not a probe.
    @inline(__always)
    func inspect(_ bytes: UnsafeRawBufferPointer, start: Int, length: Int) {
        guard length > markerOffset + marker.count + 10 else { return }
        let at = start + markerOffset
        for k in 0..<marker.count where bytes[at + k] != marker[k] { return }
        let now = dfl_monotonic_ns()
        // "volume":N — the probe index.
        let end = start + length
        var i = at + marker.count
        search: while i + volumeKey.count < end {
            for k in 0..<volumeKey.count where bytes[i + k] != volumeKey[k] { i += 1; continue search }
            break
        }
        i += volumeKey.count
        var index = 0
        var digits = 0
        while i < end, bytes[i] >= 48, bytes[i] <= 57 {
            index = index * 10 + Int(bytes[i] - 48)
            i += 1
            digits += 1
        }
        guard digits > 0, index < capacity else { return }
        let sent = sendTimes.get(index)
        guard sent > 0 else { return }
        lock.lock()
        _ = histogram.record(UInt64(max(0, now - sent)))
        lock.unlock()
    }

    func snapshot() -> Histogram<UInt64> {
        lock.lock()
        defer { lock.unlock() }
        return histogram
    }

    func reset() {
        lock.lock()
        histogram.reset()
        lock.unlock()
    }

    /// Sends `rate` probes per second from a thread of its own until `stop` is set.
    func publish(port: Int, rate: Int, stop: @escaping @Sendable () -> Bool) throws {
        let publisher = try BlockingTLS(port: port)
        try publisher.upgrade(path: "/ws")
        // The server answers each ingest with an ack: read and drop them so its writes never stall.
        Thread.detachNewThread {
            while (try? publisher.nextMessage()) != nil {}
        }
        let base = Int64(Date().timeIntervalSince1970 * 1000)
        let thread = Thread { [self] in
            let t0 = dfl_monotonic_ns()
            var index = 0
            while !stop(), index < capacity {
                let due = t0 + Int64(Double(index) * 1e9 / Double(rate))
                let wait = due - dfl_monotonic_ns()
                if wait > 0 { usleep(UInt32(wait / 1000)) }
                let body = #"{"op":"ticks","ticks":[{"symbol":"\#(symbol)","ts":\#(base + Int64(index)),"price":100.5,"volume":\#(index)}]}"#
                sendTimes.set(index, dfl_monotonic_ns())
                do { try publisher.sendText(Array(body.utf8)) } catch { break }
                index += 1
            }
            publisher.shutdown()
        }
        thread.start()
    }
}

extension BlockingTLS {
    /// One masked text frame (RFC 6455 §5.3; a zero mask key leaves the payload as it is).
    func sendText(_ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        frame += [0, 0, 0, 0]
        frame += payload
        try send(frame)
    }
}
