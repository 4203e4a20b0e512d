import CLinux
import Contracts

/// The client command protocol: `subscribe`, `unsubscribe`, `ping` and `ticks`, decoded by
/// `StreamCommand` (Contracts) and answered here.
extension WebSocketSession {
    func command(_ bytes: [UInt8]) {
        switch StreamCommand.decode(bytes, maxSymbols: settings.maxSymbols) {
        case .failure(let failure):
            sendError(failure.code, failure.message)
        case .success(.subscribe(let request)):
            if request.cursor != nil && settings.instance == nil {
                return sendError("invalid_subscription", Self.cursorNeedsInstances)  // the subscription stays as it was
            }
            subscription.apply(request)
            acknowledge(subscription)
            if let cursor = request.cursor {
                resume(cursor)
            } else if let since = request.sinceSeq {
                replay(after: since)
            }
        case .success(.unsubscribe(let channels)):
            subscription.channels.subtract(channels.isEmpty ? subscription.channels : channels)
            sendJSON { w in
                w.string("type", "unsubscribed")
                w.beginArray("channels")
                for c in subscription.channels.sorted() { w.string(nil, c.rawValue) }
                w.endArray()
            }
        case .success(.ping):
            sendJSON { w in
                w.string("type", "pong")
                w.uint64("seq", broadcaster.store.lastSeq)
            }
        case .success(.ticks(let batch, let apiKey)):
            if let denied = settings.ingestGuard.check(presented: apiKey ?? ingestKey) {
                return sendError(denied.code, denied.message)
            }
            ingest(batch)
        }
    }

    static let cursorNeedsInstances = "cursor resumes across gateways sharing a Redis (redis.url); this gateway is alone: use since_seq"

    func acknowledge(_ s: Subscription) {
        sendJSON { w in
            w.string("type", "subscribed")
            w.beginArray("channels")
            for c in s.channels.sorted() { w.string(nil, c.rawValue) }
            w.endArray()
            w.beginArray("symbols")
            for sym in (s.symbols.map { $0.sorted() } ?? ["*"]) { w.string(nil, sym) }
            w.endArray()
            w.double("min_confidence", s.minConfidence)
        }
    }

    /// The valid ticks go into this loop's ring as a whole or not at all (as REST ingest);
    /// the ack lists each refused one with its index, reason and field.
    private func ingest(_ batch: StreamCommand.TickBatch) {
        guard let input = broadcaster.ingest else { return sendError("pipeline_unavailable", "the pipeline is not running") }
        var batch = batch
        input.markets.screen(&batch.ticks, &batch.rejected)
        input.countInvalid(batch.rejected.map { $0.field ?? "record" })
        if input.freeCapacity < batch.ticks.count {
            input.rejectedFull.wrappingAdd(batch.ticks.count, ordering: .relaxed)
            return sendError("pipeline_busy", "the pipeline is busy: \(batch.ticks.count) ticks not accepted, retry shortly")
        }
        let receivedNs = dfl_monotonic_ns()
        input.submit(contentsOf: batch.ticks, receivedNs: receivedNs)
        sendJSON { w in
            w.string("type", "ack")
            w.int("accepted", batch.ticks.count)
            EventEncoder.rejected(batch.rejected, &w)
        }
    }
}
