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
        if overflowed { closeTooSlow() }
    }

    /// 1013 naming where to resume: `since_seq` on a single gateway, the cursor (every origin)
    /// when there are several — or, if it does not fit a close reason, the frames' own.
    func closeTooSlow() {
        broadcaster.countSlowClose()
        var reason = "too slow: reconnect with since_seq=\(coveredSeq)"
        if settings.instance != nil {
            reason = "too slow: reconnect with cursor=\(cursor.text)"
            if reason.utf8.count > 123 { reason = "too slow: reconnect with the cursor of the frames received" }
        }
        close(.tryAgainLater, reason)
    }

    /// Where this client stands per origin: this gateway's covered seq and the marks of the others.
    var cursor: ResumeCursor {
        var positions = marks
        if let instance = settings.instance { positions[instance] = coveredSeq }
        return ResumeCursor(positions)
    }

    /// Another gateway's event, live: wanted unless it was sent already (at or below the
    /// origin's mark, e.g. by a history replay). While the journal is read for a local resume
    /// it waits in the history (`remoteBehind`).
    func wantsRemote(_ event: PipelineEvent, origin: String, seq: UInt64) -> Bool {
        guard !closing, !overflowed else { return false }
        if readingJournal {
            remoteBehind = true
            return false
        }
        guard seq > marks[origin, default: 0] else { return false }
        guard subscription.wants(event) else {
            marks[origin] = seq  // passed over: this subscription does not take it
            return false
        }
        return true
    }

    /// A remote sequenced event over the cap closes the stream with 1013 and the cursor, as a
    /// local one does: the client resumes from its cursor on this or any gateway.
    @discardableResult
    func deliverRemote(_ frame: [UInt8], origin: String, seq: UInt64) -> Bool {
        guard !closing, let transport, transport.isOpen, !overflowed else { return false }
        if transport.queuedBytes + frame.count > settings.outboundCapBytes {
            overflowed = true
            closeTooSlow()
            return false
        }
        write(frame)
        marks[origin] = seq
        return true
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
