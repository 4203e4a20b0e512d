// libFuzzer target: the WebSocket frame reader (client frames: masking, fragmentation, control
// frames between fragments, close codes, UTF-8 validation, the message cap), without
// compression. Properties: no message exceeds the cap, text is valid UTF-8, and the events do not
// depend on where the bytes were split.
import FuzzDriver
import Glibc
import WebSocket

func events(_ data: UnsafeRawBufferPointer, splitAt split: Int) -> [WSEvent] {
    var reader = WSFrameReader(maxMessageBytes: 4096)
    var out: [WSEvent] = []
    func drain() {
        while true {
            let e = reader.next()
            switch e {
            case .needMore: return
            case .failure: out.append(e); return
            case .text(let t):
                precondition(t.count <= 4096, "text over the cap")
                precondition(String(validating: t, as: UTF8.self) != nil, "invalid UTF-8 passed as text")
                out.append(e)
            case .binary(let b):
                precondition(b.count <= 4096, "binary over the cap")
                out.append(e)
            default: out.append(e)
            }
        }
    }
    reader.append(UnsafeRawBufferPointer(rebasing: data[0..<split]))
    drain()
    if case .failure = out.last {} else {
        reader.append(UnsafeRawBufferPointer(rebasing: data[split...]))
        drain()
    }
    return out
}

let fuzz: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt = { start, count in
    let data = UnsafeRawBufferPointer(start: start, count: count)
    let whole = events(data, splitAt: count)
    let split = count > 0 ? Int(data[0]) % (count + 1) : 0
    let pieces = events(data, splitAt: split)
    if whole != pieces { fatalError("split at \(split) changed the events:\n  whole:  \(whole)\n  pieces: \(pieces)") }
    return 0
}
exit(FuzzDriver.run(fuzz))
