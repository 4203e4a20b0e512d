import Contracts
import Pipeline

/// The journal as the pipeline's `EventJournal`: each sequenced event is stored as the same
/// JSON envelope clients receive (`{"type","seq","payload"}`), so a record can be replayed to a
/// WebSocket client as is, and decoded back for the query store at recovery. Engine inputs go to
/// their own journal (`data_dir/inputs`) in the checkpoint codec's binary form (~70 bytes a tick),
/// numbered from 1, one record per batch (its seq is the number of the batch's last input), so
/// the checksum and the record header are paid once a batch, not once a tick; a batch commits its
/// inputs before its events.
public final class JournalWriter: EventJournal, @unchecked Sendable {
    public let journal: Journal
    /// Engine inputs since the last checkpoint (`journal.inputs`); nil = not kept.
    public let inputs: Journal?
    public private(set) var inputSeq: UInt64
    private var json = JSONWriter(capacity: 1024)
    private var batch = BinaryWriter(capacity: 64 * 1024)
    /// A batch of inputs is cut into records of about this size.
    static let recordBytes = 1 << 20

    public init(journal: Journal, inputs: Journal? = nil) {
        self.journal = journal
        self.inputs = inputs
        inputSeq = inputs?.lastSeq ?? 0
    }

    public var journalsInputs: Bool { inputs != nil }

    public func appendInput(_ input: EngineInput) {
        guard inputs != nil else { return }
        inputSeq += 1
        input.write(&batch)
        if batch.bytes.count >= Self.recordBytes { flushInputs() }
    }

    public func append(_ event: PipelineEvent) {
        guard let seq = event.seq else { return }
        json.reset()
        event.envelope(&json)
        json.bytes.withUnsafeBytes { journal.append(seq: seq, payload: $0) }
    }

    public func append(seq: UInt64, envelope: UnsafeRawBufferPointer) {
        journal.append(seq: seq, payload: envelope)
    }

    /// Inputs first, then events; when the inputs cannot be written the events wait too (both
    /// stay buffered and are retried with the next commit), so the journal never holds an event
    /// whose inputs it lacks.
    public func commit() {
        flushInputs()
        if let inputs, !inputs.commit() { return }
        journal.commit()
    }

    /// Input numbers go on after `seq` (the checkpoint's, when the input journal has lost its
    /// newest records): a number is never given twice.
    public func continueInputs(after seq: UInt64) { inputSeq = max(inputSeq, seq) }

    private func flushInputs() {
        guard let inputs, !batch.bytes.isEmpty else { return }
        batch.bytes.withUnsafeBytes { inputs.append(seq: inputSeq, payload: $0) }
        batch.reset()
    }

    /// The inputs journaled after input number `after`, in order, from the records of `journal`;
    /// `contiguous` is false when some between `after` and the first one read are gone.
    public static func inputs(in journal: Journal, after: UInt64) -> (inputs: [EngineInput], contiguous: Bool, unreadable: Int) {
        let (records, oldest) = journal.read(after: after, limit: .max)
        var out: [EngineInput] = []
        var unreadable = 0
        var expected = after + 1
        var contiguous = true
        for record in records {
            guard let batch = try? EngineInput.all(in: record.payload) else {
                unreadable += 1
                contiguous = false
                continue
            }
            let first = record.seq &- UInt64(batch.count) &+ 1
            // A record reaching back to or before `after` holds inputs the state already has.
            let skip = first <= after ? Int(after - first + 1) : 0
            if max(first, after + 1) != expected { contiguous = false }
            expected = record.seq + 1
            out += batch.dropFirst(skip)
        }
        if records.isEmpty, let oldest, oldest > after + 1 { contiguous = false }
        return (out, contiguous, unreadable)
    }
}
