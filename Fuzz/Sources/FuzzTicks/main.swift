// libFuzzer target: tick decoding from JSON (object or array), NDJSON and CSV — the bytes of
// POST /api/v1/ticks and of `dongfeng replay`. Properties: every tick accepted satisfies the
// data contract (docs/CONTRACTS.md, "Tick"), every rejection has an index inside the input's
// records, and the accepted and rejected together never exceed the records there are.
import FuzzDriver
import Glibc
import Contracts

let fuzz: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt = { start, count in
    guard count > 0 else { return 0 }
    let formats: [TickFormat] = [.json, .ndjson, .csv]
    let format = formats[Int(start[0]) % 3]
    let body = UnsafeRawBufferPointer(start: start + 1, count: count - 1)
    let result = TickDecoder.decode(body, format: format)
    for tick in result.ticks {
        precondition(tick.validate() == nil, "accepted a tick that breaks the contract: \(tick)")
    }
    let lines = body.reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
    let commas = body.reduce(1) { $0 + ($1 == 44 ? 1 : 0) }
    let bound = format == .json ? commas : lines
    precondition(result.ticks.count + result.rejected.count <= bound,
                 "\(result.ticks.count) accepted + \(result.rejected.count) rejected from at most \(bound) records")
    for r in result.rejected { precondition(r.index >= 0 && r.index < bound, "rejection index \(r.index) out of range") }
    return 0
}
exit(FuzzDriver.run(fuzz))
