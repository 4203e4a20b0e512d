// WebSocket / end-to-end load generator on our own reactor (Benchmarks/ws.sh runs it).
//   dongfeng-wsload fanout --port P --clients N [--deflate] [--seconds S] [--path /ws?channels=ticks] [--probe-rate R]
//   dongfeng-wsload idle   --port P --clients N [--seconds S]
//   dongfeng-wsload e2e    --port P --rate R [--seconds S] [--warmup N]
import CLinux
import Foundation
import Reactor
import Synchronization

signal(SIGPIPE, SIG_IGN)
/// Unbuffered lines: Benchmarks/ws.sh waits for "ready" on a pipe.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: "--\(name)"), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
func flag(_ name: String) -> Bool { arguments.contains("--\(name)") }
guard let mode = arguments.first, let port = Int(option("port", "")) else {
    FileHandle.standardError.write(Data("usage: dongfeng-wsload fanout|idle|e2e --port P [options] (see Benchmarks/WSLoad/main.swift)\n".utf8))
    exit(2)
}
let seconds = Int(option("seconds", "10")) ?? 10
_ = dfl_raise_nofile_limit((Int(option("clients", "0")) ?? 0) + 256)

func openClients(_ count: Int, path: String, deflate: Bool, group: EventLoopGroup, probe: Probe? = nil,
                 stats: LoadStats = LoadStats()) throws -> (LoadStats, Double) {
    let loops = group.loops.count
    let tls: TLSContext? = flag("plain") ? nil : try TLSContext(clientVerifying: false)
    let base = stats.upgraded.load(ordering: .relaxed) + stats.failed.load(ordering: .relaxed)
    let t0 = dfl_monotonic_ns()
    // Waves of 200, at most ~1000 handshakes in flight: the server's accept backlog is finite.
    var started = 0
    while started < count {
        let inFlight = base + started - stats.upgraded.load(ordering: .relaxed) - stats.failed.load(ordering: .relaxed)
        if inFlight > 1000 { usleep(2_000); continue }
        let wave = min(200, count - started)
        for k in 0..<wave {
            let loop = group.loops[(started + k) % loops]
            loop.execute {
                do { try loop.connect(host: "127.0.0.1", port: port, tls: tls, timeoutMs: 30_000,
                                      handler: FanoutClient(stats: stats, path: path, deflate: deflate, probe: probe)) }
                catch { stats.failed.wrappingAdd(1, ordering: .relaxed) }
            }
        }
        started += wave
    }
    while stats.upgraded.load(ordering: .relaxed) + stats.failed.load(ordering: .relaxed) < base + count {
        usleep(2_000)
        if Double(dfl_monotonic_ns() - t0) / 1e9 > 120 { break }
    }
    let elapsed = Double(dfl_monotonic_ns() - t0) / 1e9
    return (stats, elapsed)
}

do {
    switch mode {
    case "fanout", "idle":
        let clients = Int(option("clients", "1000")) ?? 1000
        let deflate = flag("deflate")
        let path = option("path", mode == "idle" ? "/ws" : "/ws?channels=ticks&symbols=*")
        let group = try EventLoopGroup(loopCount: Int(option("loops", "1")) ?? 1, maxConnections: 16, sweepIntervalMs: 100)
        group.start()
        // Delivery latency (fanout): probe ticks published at --probe-rate per second (0: off).
        let probeRate = mode == "fanout" ? Int(option("probe-rate", "100")) ?? 100 : 0
        let probe = probeRate > 0 ? Probe(capacity: probeRate * (seconds + 10)) : nil
        let (stats, elapsed) = try openClients(clients, path: path, deflate: deflate, group: group, probe: probe)
        let up = stats.upgraded.load(ordering: .relaxed)
        say(String(format: "connected %d of %d WSS clients%@ in %.2f s (%.0f connections/s), %d failed",
                     up, clients, deflate ? " (permessage-deflate)" : "", elapsed, Double(up) / elapsed,
                     stats.failed.load(ordering: .relaxed)))
        say("ready")  // Benchmarks/ws.sh reads the server's RSS now (idle mode)
        if mode == "idle" {
            sleep(UInt32(seconds))
        } else {
            // With deflate the subscribers' frames are compressed: plain probe subscribers read the probes.
            let probeClients = deflate && probe != nil ? max(10, clients / 100) : 0
            if probeClients > 0 {
                _ = try openClients(probeClients, path: path, deflate: false, group: group, probe: probe, stats: stats)
                say("connected \(stats.upgraded.load(ordering: .relaxed) - up) plain probe subscribers")
            }
            let stopProbes = Atomic<Bool>(false)
            try probe?.publish(port: port, rate: probeRate) { stopProbes.load(ordering: .relaxed) }
            sleep(2)  // settle
            probe?.reset()
            var rates: [Double] = []
            var last = stats.messages.load(ordering: .relaxed)
            var lastBytes = stats.bytes.load(ordering: .relaxed)
            var t = dfl_monotonic_ns()
            for _ in 0..<seconds {
                sleep(1)
                let now = dfl_monotonic_ns()
                let m = stats.messages.load(ordering: .relaxed)
                let b = stats.bytes.load(ordering: .relaxed)
                let dt = Double(now - t) / 1e9
                rates.append(Double(m - last) / dt)
                say(String(format: "  %.0f msgs/s, %.1f MB/s", Double(m - last) / dt, Double(b - lastBytes) / dt / 1e6))
                (last, lastBytes, t) = (m, b, now)
            }
            let sorted = rates.sorted()
            say(String(format: "fanout %d clients%@: median %.0f msgs/s delivered (min %.0f, max %.0f); %d closed during the run; %d compressed messages",
                         up, deflate ? " deflate" : "", sorted[sorted.count / 2], sorted.first ?? 0, sorted.last ?? 0,
                         stats.closed.load(ordering: .relaxed), stats.compressedMessages.load(ordering: .relaxed)))
            stopProbes.store(true, ordering: .relaxed)
            if let probe {
                let h = probe.snapshot()
                func us(_ q: Double) -> String { String(format: "%.1f", Double(h.valueAtPercentile(q)) / 1000) }
                say("fanout latency publish→receive (µs): p50 \(us(50)) p90 \(us(90)) p99 \(us(99)) p99.9 \(us(99.9)) max \(us(100)) n=\(h.totalCount)")
            }
        }
        group.stopNow()
        group.waitUntilStopped()
    case "e2e":
        try EndToEnd.run(port: port, rate: Int(option("rate", "1000")) ?? 1000, seconds: seconds,
                         warmup: Int(option("warmup", "200")) ?? 200)
    default:
        FileHandle.standardError.write(Data("unknown mode \(mode): fanout, idle or e2e\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("dongfeng-wsload: \(error)\n".utf8))
    fflush(nil)
    _exit(1)
}
// Not exit(): its atexit handlers include OpenSSL's cleanup, which frees the library's locks
// while a detached probe thread (or, on the error path, a loop) may still be inside OpenSSL —
// a segfault in pthread_rwlock_unlock at exit was seen once.
fflush(nil)
_exit(0)
