// libFuzzer target: what a streaming peer sends — WebSocket client commands (StreamCommand) and
// event envelopes from the journal or another instance over Redis (EventDecoder). Properties:
// no input crashes either decoder; a subscription that decodes is within its limits (known
// channels, at most 8 valid symbols here, min_confidence in 0...1); every tick of a `ticks`
// command satisfies the contract; an envelope that decodes re-encodes to bytes that decode to
// the same bytes again (the encoder and the decoder agree).
import FuzzDriver
import Glibc
import Contracts

let fuzz: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt = { start, count in
    let bytes = UnsafeBufferPointer(start: start, count: count)
    switch StreamCommand.decode(bytes, maxSymbols: 8) {
    case .success(.subscribe(let request)):
        if let symbols = request.symbols {
            precondition(symbols.count <= 8, "\(symbols.count) symbols accepted")
            for s in symbols where s != "*" { precondition(Tick.symbolProblem(s) == nil, "bad symbol \(s) accepted") }
        }
        if let c = request.minConfidence { precondition((0...1).contains(c), "min_confidence \(c) accepted") }
    case .success(.ticks(let batch, _)):
        for tick in batch.ticks { precondition(tick.validate() == nil, "accepted a tick that breaks the contract: \(tick)") }
    case .success, .failure:
        break
    }
    if let decoded = EventDecoder.decode(bytes) {
        var w = JSONWriter()
        decoded.event.envelope(&w, instance: decoded.instance)
        let again = EventDecoder.decode(w.bytes)
        precondition(again != nil, "a re-encoded event does not decode")
        var w2 = JSONWriter()
        again!.event.envelope(&w2, instance: again!.instance)
        precondition(w2.bytes == w.bytes, "encode(decode(encode(x))) differs from encode(x)")
    }
    return 0
}
exit(FuzzDriver.run(fuzz))
