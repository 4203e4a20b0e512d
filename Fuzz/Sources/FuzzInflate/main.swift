// libFuzzer target: permessage-deflate inflation with its limit (RFC 7692), alone and through the
// frame reader. Properties: the output never exceeds the cap (zip bombs stop at the limit), a
// failed message leaves the output untouched, and an inflater that refused a message is still
// usable after its reset.
import FuzzDriver
import Glibc
import Deflate
import WebSocket

let cap = 64 << 10

let fuzz: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt = { start, count in
    let data = UnsafeRawBufferPointer(start: start, count: count)
    // First byte: which half of the input is one message, the rest a second one, and whether
    // the window is kept between them (context takeover).
    let takeover = count > 0 && data[0] & 1 == 1
    let split = count > 1 ? 1 + Int(data[0] >> 1) % count : count
    guard let inflater = try? RawInflater(windowBits: 15, noContextTakeover: !takeover) else { fatalError("inflater") }
    for part in [data[min(1, count)..<split], data[split...]] {
        var out: [UInt8] = [1, 2, 3]
        do {
            try inflater.decompressMessage(UnsafeRawBufferPointer(rebasing: part), maxOutput: cap, into: &out)
            precondition(out.count - 3 <= cap, "inflated past the cap")
            precondition(out.prefix(3) == [1, 2, 3], "earlier output overwritten")
        } catch {
            precondition(out == [1, 2, 3], "a failed message changed the output")
        }
    }
    // The same bytes as compressed client frames: the reader's cap applies after inflation.
    var reader = WSFrameReader(maxMessageBytes: cap, inflateWindowBits: 15, noContextTakeover: !takeover)
    reader.append(data)
    loop: while true {
        switch reader.next() {
        case .needMore, .failure: break loop
        case .text(let t): precondition(t.count <= cap && String(validating: t, as: UTF8.self) != nil)
        case .binary(let b): precondition(b.count <= cap)
        default: continue
        }
    }
    return 0
}
exit(FuzzDriver.run(fuzz))
