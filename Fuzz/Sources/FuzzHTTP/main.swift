// libFuzzer target: the HTTP/1.1 request parser (heads, Content-Length and chunked bodies,
// pipelining, every refusal). Property besides "no crash": feeding the same bytes in two pieces
// (split where the first byte says) yields the same requests and the same verdict as feeding
// them at once — the parser's incremental scan must not depend on where reads end.
import FuzzDriver
import Glibc
import HTTP

struct Outcome: Equatable {
    var requests: [String] = []
    var failure: String?
}

func parse(_ data: UnsafeRawBufferPointer, splitAt split: Int) -> Outcome {
    var parser = HTTPParser(limits: HTTPLimits(maxHeaderBytes: 4096, maxHeaderCount: 32, maxURIBytes: 1024, maxBodyBytes: 64 << 10))
    var outcome = Outcome()
    func drain() {
        while outcome.failure == nil {
            switch parser.next() {
            case .needMore: return
            case .expectContinue: continue
            case .request(let r):
                precondition(r.body.count <= 64 << 10, "body over the limit")
                outcome.requests.append("\(r.method) \(r.target) \(r.versionMinor) \(r.keepAlive) \(r.body.count) \(r.body.hashValue)")
            case .failure(let e): outcome.failure = "\(e)"
            }
        }
    }
    parser.append(UnsafeRawBufferPointer(rebasing: data[0..<split]))
    drain()
    if outcome.failure == nil {
        parser.append(UnsafeRawBufferPointer(rebasing: data[split...]))
        drain()
    }
    return outcome
}

let fuzz: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt = { start, count in
    let data = UnsafeRawBufferPointer(start: start, count: count)
    let whole = parse(data, splitAt: count)
    let split = count > 0 ? Int(data[0]) % (count + 1) : 0
    let pieces = parse(data, splitAt: split)
    if whole != pieces { fatalError("split at \(split) changed the outcome:\n  whole:  \(whole)\n  pieces: \(pieces)") }
    return 0
}
exit(FuzzDriver.run(fuzz))
