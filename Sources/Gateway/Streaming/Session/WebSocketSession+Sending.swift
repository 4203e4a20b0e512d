import Contracts
import WebSocket

/// Streaming to one client under its outbound cap: lossy channels (ticks, bars, features) skip
/// an update that does not fit; sequenced channels close with 1013 naming the last seq sent,
/// so the client resumes exactly there.
extension WebSocketSession {
    func wants(_ event: PipelineEvent) -> Bool {
        guard !closing, !readingJournal else { return false }
        if let seq = event.seq, seq <= coveredSeq { return false }  // already sent by a replay
        return subscription.wants(event)
    }

    /// Whether an event's frame may join this client's batch (`corked` bytes so far). Over the
    /// outbound cap a lossy event is skipped (counted); a sequenced one ends the client's stream:
    /// the frames admitted so far are still sent by `flush`, then it closes with 1013 naming the
    /// last seq sent, where the client resumes.
    func admit(_ event: PipelineEvent, frameBytes: Int, corked: Int) -> Bool {
        guard !closing, !overflowed, let transport, transport.isOpen else { return false }
        if transport.queuedBytes + corked + frameBytes > settings.outboundCapBytes {
            if event.seq == nil {
                broadcaster.countDrop()  // lossy channel: this update is skipped
            } else {
                overflowed = true
            }
            return false
        }
        if let seq = event.seq { coveredSeq = seq }
        return true
    }

    /// Writes a batch of admitted frames with one call; then closes if the batch overflowed.
    func flush(_ frames: [UInt8]) {
        guard !closing else { return }
        if !frames.isEmpty { write(frames) }
        if overflowed {
            broadcaster.countSlowClose()
            close(.tryAgainLater, "too slow: reconnect with since_seq=\(coveredSeq)")
        }
    }

    /// Another instance's event: filtered like local ones, never part of the local seq.
    func wantsRemote(_ event: PipelineEvent) -> Bool {
        !closing && !readingJournal && !overflowed && subscription.wants(event)
    }

    /// Over the cap a remote event is skipped and counted (it is not in this instance's seq,
    /// so a resume could not bring it back; the origin's REST has it).
    func deliverRemote(_ frame: [UInt8]) {
        guard let transport, transport.isOpen else { return }
        if transport.queuedBytes + frame.count > settings.outboundCapBytes {
            broadcaster.countDrop()
            return
        }
        write(frame)
    }

    /// One event's shared frame (replay path).
    func deliver(_ event: PipelineEvent, frame: [UInt8]) {
        flush(admit(event, frameBytes: frame.count, corked: 0) ? frame : [])
    }

    func write(_ bytes: [UInt8]) {
        transport?.send(bytes)
    }

    /// A server message of its own (hello, acks, errors): one JSON object, compressed when
    /// the client negotiated it.
    func sendJSON(_ build: (inout JSONWriter) -> Void) {
        var w = JSONWriter()
        w.beginObject()
        build(&w)
        w.endObject()
        if compresses, let deflater = broadcaster.deflater {
            var body: [UInt8] = []
            if (try? w.bytes.withUnsafeBytes { try deflater.compressMessage($0, into: &body) }) != nil {
                write(WSFrameWriter.frame(.text, body, compressed: true))
                return
            }
        }
        write(WSFrameWriter.frame(.text, w.bytes))
    }

    func sendError(_ code: String, _ message: String) {
        sendJSON { w in
            w.string("type", "error")
            w.string("code", code)
            w.string("message", message)
        }
    }
}
