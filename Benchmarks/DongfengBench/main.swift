// Micro-benchmarks of the pure codecs: throughput and heap allocations per operation.
// Run: Benchmarks/codecs.sh   (builds release and preloads the malloc interposer so that
// allocation counts are real; without the preload they print as "n/a").
import Foundation
import Glibc
import HTTP
import Histogram
import MallocInterposerSwift

struct Measurement {
    let name: String
    let operations: Int
    let seconds: Double
    let allocations: Int64?
    var perSecond: Double { Double(operations) / seconds }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let interposed = getenv("LD_PRELOAD").map { String(cString: $0).contains("MallocInterposer") } ?? false

func measure(_ name: String, operations: Int, _ body: () -> Void) -> Measurement {
    body()  // warm-up: first-touch allocations (buffer capacity) are not per-request costs
    if interposed {
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
    }
    let start = now()
    body()
    let elapsed = now() - start
    var allocations: Int64?
    if interposed {
        MallocInterposerSwift.unhook()
        allocations = Int64(MallocInterposerSwift.getStatistics().mallocCount)
    }
    return Measurement(name: name, operations: operations, seconds: elapsed, allocations: allocations)
}

let browserGET = Array("""
    GET /api/v1/opportunities?symbol=600519.SH&limit=20 HTTP/1.1\r
    Host: localhost:8443\r
    User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r
    Accept: application/json, text/plain, */*\r
    Accept-Language: zh-CN,zh;q=0.9,en;q=0.8\r
    Accept-Encoding: gzip, deflate, br\r
    Connection: keep-alive\r
    Referer: https://localhost:8443/\r
    Sec-Fetch-Mode: cors\r
    \r

    """.utf8)
let smallGET = Array("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
let chunkedPOST = Array(("POST /api/v1/ticks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
    + "Transfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "x", count: 64) + "\r\n0\r\n\r\n").utf8)

if CommandLine.arguments.dropFirst().first == "journal" {
    JournalBench.run()
    exit(0)
}
// `dongfeng-bench recovery [ticks]`: what exact crash recovery costs (Benchmarks/recovery.sh).
if CommandLine.arguments.dropFirst().first == "recovery" {
    RecoveryBench.run(count: Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 1_000_000)
    exit(0)
}
// `dongfeng-bench worker [ticks]`: the worker in the end-to-end run's shape, its cost per tick.
if CommandLine.arguments.dropFirst().first == "worker" {
    WorkerBench.run(count: Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 200_000)
    exit(0)
}
// `dongfeng-bench pipeline [ticks]`: the engine alone (Benchmarks/run.sh's pipeline figures).
if CommandLine.arguments.dropFirst().first == "pipeline" {
    PipelineBench.report(ticks: Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 1_000_000)
    exit(0)
}
let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000

func parseLoop(_ request: [UInt8], pipelined: Int = 1) -> () -> Void {
    var batch: [UInt8] = []
    for _ in 0..<pipelined { batch += request }
    var parser = HTTPParser()
    return {
        var count = 0
        while count < iterations {
            batch.withUnsafeBytes { parser.append($0) }
            while case .request = parser.next() { count += 1 }
        }
    }
}

var results: [Measurement] = []
results.append(measure("parse small GET", operations: iterations, parseLoop(smallGET)))
results.append(measure("parse browser GET (9 headers)", operations: iterations, parseLoop(browserGET)))
results.append(measure("parse browser GET ×16 pipelined", operations: iterations, parseLoop(browserGET, pipelined: 16)))
results.append(measure("parse chunked POST", operations: iterations, parseLoop(chunkedPOST)))

var head: [UInt8] = []
results.append(measure("write response head", operations: iterations) {
    var headers = HTTPHeaders()
    headers.add("Content-Type", "application/json")
    headers.add("Content-Length", "1234")
    let response = HTTPResponseHead(status: 200, headers: headers)
    for _ in 0..<iterations {
        head.removeAll(keepingCapacity: true)
        response.write(into: &head)
    }
})

var router = Router<Int>()
router.add(.get, "/health", 1)
router.add(.get, "/api/v1/opportunities", 2)
router.add(.get, "/api/v1/opportunities/{id}", 3)
router.add(.get, "/api/v1/symbols/{symbol}/bars", 4)
router.add(.get, "/*", 5)
results.append(measure("route /api/v1/symbols/{symbol}/bars", operations: iterations) {
    var sink = 0
    for _ in 0..<iterations {
        if case .found(let h, _, _) = router.match(.get, "/api/v1/symbols/600519.SH/bars") { sink &+= h }
    }
    precondition(sink == iterations * 4)
})

let tickIterations = max(10_000, iterations / 2)
results.append(measure("tick JSON object → Tick (ours)", operations: tickIterations, TickBench.ours(tickIterations)))
results.append(measure("tick JSON object → Tick (Foundation JSONDecoder)", operations: tickIterations / 4,
                       TickBench.foundation(tickIterations / 4)))
let ndjsonBatch = TickBench.ndjson(lines: 1000)
results.append(measure("tick NDJSON, 1000-line batch, per tick", operations: 1000 * 200,
                       TickBench.oursNDJSON(ndjsonBatch, lines: 1000, rounds: 200)))

let ringMessages = 50_000_000
var ringRates: [Double] = []
for _ in 0..<3 {
    let r = RingBench.run(messages: ringMessages)
    precondition(r.checksumOK, "ring checksum mismatch")
    ringRates.append(r.perSecond)
}
ringRates.sort()
results.append(Measurement(name: "SPSC ring push→drain (median of 3)", operations: ringMessages,
                           seconds: Double(ringMessages) / ringRates[1], allocations: nil))
var batchRates: [Double] = []
for _ in 0..<3 {
    let r = RingBench.run(messages: ringMessages, batch: 64)
    precondition(r.checksumOK, "ring checksum mismatch")
    batchRates.append(r.perSecond)
}
batchRates.sort()
results.append(Measurement(name: "SPSC ring, 64-element publish (median of 3)", operations: ringMessages,
                           seconds: Double(ringMessages) / batchRates[1], allocations: nil))

let pipelineTicks = PipelineBench.simulatedTicks(2_000_000)
var engineRates = (0..<3).map { _ in PipelineBench.throughput(pipelineTicks) }
engineRates.sort()
results.append(Measurement(name: "engine: simulated ticks, 1s bars, all strategies", operations: pipelineTicks.count,
                           seconds: Double(pipelineTicks.count) / engineRates[1], allocations: nil))

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
print("\(pad("benchmark", 50)) \(pad("ops/s", 14)) \(pad("ns/op", 10)) allocs/op")
for r in results {
    let allocs = r.allocations.map { String(format: "%.2f", Double($0) / Double(r.operations)) } ?? (interposed ? "-" : "n/a (run Benchmarks/codecs.sh)")
    print("\(pad(r.name, 50)) \(pad(String(Int(r.perSecond)), 14)) \(pad(String(format: "%.0f", r.seconds / Double(r.operations) * 1e9), 10)) \(allocs)")
}

print("")
PipelineBench.reportLatency(Array(pipelineTicks.prefix(1_000_000)))
