import Contracts
import Dispatch
import Store

/// `since_seq` resumes: every stored sequenced event after a seq that the subscription wants,
/// in seq order, from memory or — older than memory — from the journal, then live without a
/// repeat or a gap. A `cursor` resumes every origin: this gateway's as `since_seq` does, the
/// others' from the remote history.
extension WebSocketSession {
    /// A cursor resume (multi-instance). The other origins first, from the remote history
    /// (memory, at once); then this gateway's from its seq in the cursor — or, when the cursor
    /// does not name this gateway, everything memory holds of it.
    func resume(_ resume: ResumeCursor) {
        var own: UInt64?
        for (origin, seq) in resume.positions {
            if origin == settings.instance { own = seq } else { marks[origin] = seq }
        }
        if let remote = settings.remote {
            // Origins the cursor does not name: all that is held.
            for origin in remote.positions().keys where resume.positions[origin] == nil { marks[origin] = 0 }
            gapOrigins = Set(resume.positions.keys)
            awaitingBackfill = !remote.isBackfilled
            replayRemote()
        }
        let store = broadcaster.store
        replay(after: own ?? (store.historyStartsAt ?? 1) - 1)
    }

    /// The history's backfill is in (see `Broadcaster.remoteBackfilled`): what it brought
    /// after the marks, now or once a journal read is done.
    func finishAwaitingBackfill() {
        awaitingBackfill = false
        if readingJournal {
            remoteBehind = true
        } else {
            replayRemote()
        }
    }

    /// Sends the other origins' held events after each one's mark that the subscription wants,
    /// oldest first per origin; `history_gap` for an origin of the cursor whose events after
    /// its mark are no longer all held.
    func replayRemote() {
        guard let remote = settings.remote, !closing else { return }
        remoteBehind = false
        for (origin, gapAfter, entries) in remote.entries(after: marks).sorted(by: { $0.origin < $1.origin }) {
            if let gapAfter, gapOrigins.remove(origin) != nil {
                sendError("history_gap", "events of \(origin) after seq \(marks[origin] ?? 0) are no longer all held here; complete after \(gapAfter)")
            }
            for entry in entries {
                guard !closing, !overflowed else { return }
                guard subscription.wants(entry.event) else {
                    marks[origin] = entry.seq
                    continue
                }
                if !deliverRemote(broadcaster.frame(entry.json, compress: compresses), origin: origin, seq: entry.seq) { return }
            }
        }
        if !awaitingBackfill { gapOrigins.removeAll() }
    }

    /// Sends every stored sequenced event after `since` that the subscription wants, in seq
    /// order, then continues live: events up to the store's seq at this moment count as covered,
    /// so the live stream neither repeats nor skips one.
    func replay(after since: UInt64) {
        let store = broadcaster.store
        if let start = store.historyStartsAt, since + 1 < start {
            if let journal = settings.journal, transport != nil {
                replayFromJournal(journal, after: since, until: start - 1)
                return
            }
            sendError("history_gap", "events after seq \(since) are no longer all in memory; the oldest complete seq is \(start)")
        }
        replayFromStore(after: since)
    }

    /// Older than memory: reads the journal on another thread (file I/O stays off the reactor),
    /// sends what the subscription wants, then resumes from the store where the journal part
    /// ended — reading the journal again if memory moved on meanwhile.
    private func replayFromJournal(_ journal: Journal, after since: UInt64, until end: UInt64) {
        guard let transport else { return }
        readingJournal = true
        let box = SessionBox(self, transport)
        let limit = max(1_000, broadcaster.store.capacity)
        DispatchQueue.global().async {
            let (records, oldest) = journal.read(after: since, upTo: end, limit: limit)
            box.transport.execute { box.session?.finishJournalReplay(after: since, records, oldest: oldest) }
        }
    }

    fileprivate func finishJournalReplay(after since: UInt64, _ records: [(seq: UInt64, payload: [UInt8])], oldest: UInt64?) {
        readingJournal = false
        guard !closing else { return }
        if let oldest, since + 1 < oldest {
            sendError("history_gap", "events after seq \(since) are no longer kept; the oldest in the journal is \(oldest)")
        }
        coveredSeq = min(coveredSeq, since)
        var last = since
        for record in records {
            guard !closing else { return }
            last = record.seq
            guard let event = EventDecoder.decode(record.payload)?.event, subscription.wants(event) else { continue }
            deliver(event, frame: broadcaster.frame(event, compress: compresses))
        }
        if records.isEmpty {
            if oldest == nil { sendError("history_gap", "events after seq \(since) are no longer kept") }
            replayFromStore(after: since)
        } else {
            replay(after: last)
        }
    }

    private func replayFromStore(after since: UInt64) {
        let store = broadcaster.store
        let upTo = store.lastSeq
        var events: [PipelineEvent] = []
        let limit = store.capacity
        if subscription.channels.contains(.opportunities) {
            events += store.opportunities(sinceSeq: since, limit: limit).map(PipelineEvent.opportunity)
        }
        if subscription.channels.contains(.signals) { events += store.signals(sinceSeq: since, limit: limit).map(PipelineEvent.signal) }
        if subscription.channels.contains(.riskAlerts) { events += store.alerts(sinceSeq: since, limit: limit).map(PipelineEvent.alert) }
        events.sort { ($0.seq ?? 0) < ($1.seq ?? 0) }
        coveredSeq = min(coveredSeq, since)
        for event in events where (event.seq ?? 0) <= upTo && subscription.wants(event) {
            guard !closing else { return }
            deliver(event, frame: broadcaster.frame(event, compress: compresses))
        }
        coveredSeq = max(coveredSeq, upTo)
        // Other gateways' events passed over while the journal was read.
        if remoteBehind { replayRemote() }
    }
}

/// Carries a session across threads to its own loop (weak: it may have closed meanwhile);
/// only `transport.execute`, which any thread may call, is used off the loop.
private final class SessionBox: @unchecked Sendable {
    weak var session: WebSocketSession?
    let transport: StreamTransport
    init(_ session: WebSocketSession, _ transport: StreamTransport) {
        self.session = session
        self.transport = transport
    }
}
