import Contracts
import Foundation
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
    private var batch = CheckpointWriter(capacity: 64 * 1024)
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

public enum JournalEvents {
    /// The event a journal record holds; nil when the payload is not one (reported by callers).
    public static func decode(_ payload: [UInt8]) -> PipelineEvent? {
        guard case .success(.object(let envelope)) = JSONValue.parse(Data(payload)),
              case .string(let type)? = envelope["type"], case .object(let p)? = envelope["payload"] else { return nil }
        return decode(type: type, payload: p)
    }

    /// An event from its type and payload object (field names of docs/CONTRACTS.md, "Data contract").
    public static func decode(type: String, payload p: [String: JSONValue]) -> PipelineEvent? {
        func string(_ k: String) -> String? { if case .string(let s)? = p[k] { s } else { nil } }
        func int(_ k: String) -> Int64? { if case .int(let i)? = p[k] { Int64(i) } else { nil } }
        func seq() -> UInt64? { int("seq").flatMap { $0 > 0 ? UInt64($0) : nil } }
        func number(_ k: String) -> Double? { p[k]?.number ?? (p[k] == .null ? .nan : nil) }
        func strings(_ v: JSONValue?) -> [String] {
            if case .array(let items)? = v { return items.compactMap { if case .string(let s) = $0 { s } else { nil } } }
            return []
        }
        switch type {
        case "tick":
            guard let symbol = string("symbol"), let ts = int("ts"), let price = number("price"), let volume = number("volume") else { return nil }
            return .tick(Tick(symbol: symbol, ts: ts, price: price, volume: volume, bid: p["bid"]?.number, ask: p["ask"]?.number))
        case "signal":
            guard let seq = seq(), let ts = int("ts"), let symbol = string("symbol"), let strategy = string("strategy"),
                  let direction = string("direction").flatMap(Direction.init), let strength = number("strength"),
                  let price = number("price") else { return nil }
            return .signal(StrategySignal(seq: seq, ts: ts, symbol: symbol, strategy: strategy, direction: direction,
                                          strength: strength, price: price, reason: string("reason") ?? ""))
        case "opportunity":
            guard let seq = seq(), let id = string("id"), let symbol = string("symbol"),
                  let direction = string("direction").flatMap(Direction.init),
                  let status = string("status").flatMap(OpportunityStatus.init), let confidence = number("confidence"),
                  let price = number("price"), let count = int("signal_count"), let created = int("created_ts"),
                  let updated = int("updated_ts"), let expires = int("expires_ts"),
                  case .object(let risk)? = p["risk"], case .string(let riskStatus)? = risk["status"],
                  let rs = RiskStatus(rawValue: riskStatus) else { return nil }
            return .opportunity(Opportunity(seq: seq, id: id, symbol: symbol, direction: direction, status: status,
                                            confidence: confidence, price: price, strategies: strings(p["strategies"]),
                                            signalCount: Int(count), createdTs: created, updatedTs: updated,
                                            expiresTs: expires, riskStatus: rs, riskAlerts: strings(risk["alerts"])))
        case "risk_alert":
            guard let seq = seq(), let ts = int("ts"), let kind = string("kind"),
                  let severity = string("severity").flatMap(RiskSeverity.init), let value = number("value"),
                  let threshold = number("threshold") else { return nil }
            return .alert(RiskAlert(seq: seq, ts: ts, symbol: string("symbol"), kind: kind, severity: severity,
                                    message: string("message") ?? "", value: value, threshold: threshold))
        default:
            return nil
        }
    }
}
