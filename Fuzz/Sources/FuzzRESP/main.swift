// libFuzzer target: the RESP2 reply parser (what a Redis server, or something pretending to
// be one, sends us). Properties: nesting, element counts and bulk sizes stay under the limits
// given, and the values do not depend on where the bytes were split.
import FuzzDriver
import Glibc
import Redis

func depth(_ v: RESPValue) -> Int {
    if case .array(let items?) = v { return 1 + (items.map(depth).max() ?? 0) }
    return 0
}

func values(_ data: UnsafeRawBufferPointer, splitAt split: Int) -> ([RESPValue], Bool) {
    var parser = RESPParser(maxBulkBytes: 4096, maxDepth: 4, maxElements: 256)
    var out: [RESPValue] = []
    var failed = false
    func drain() {
        while !failed {
            switch parser.next() {
            case .value(let v):
                precondition(depth(v) <= 5, "nesting past the limit")
                out.append(v)
            case .needMore: return
            case .failure: failed = true
            }
        }
    }
    parser.append(UnsafeRawBufferPointer(rebasing: data[0..<split]))
    drain()
    parser.append(UnsafeRawBufferPointer(rebasing: data[split...]))
    drain()
    return (out, failed)
}

let fuzz: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt = { start, count in
    let data = UnsafeRawBufferPointer(start: start, count: count)
    let whole = values(data, splitAt: count)
    let split = count > 0 ? Int(data[0]) % (count + 1) : 0
    let pieces = values(data, splitAt: split)
    if whole.0 != pieces.0 || whole.1 != pieces.1 { fatalError("split at \(split) changed the values:\n  whole:  \(whole)\n  pieces: \(pieces)") }
    return 0
}
exit(FuzzDriver.run(fuzz))
