import Contracts
import HTTP
import Pipeline

/// `POST /api/v1/ticks`: JSON object or array, NDJSON, or CSV by Content-Type. Every tick is
/// validated here (the 202 lists each rejected one with its index and reason); the valid ones go
/// into this loop's ring as a whole or not at all: when the ring lacks room for the batch the
/// answer is 503 with Retry-After, counted, and nothing is half-accepted. Order checks
/// (`out_of_order`) happen in the engine and surface as risk alerts. The 202 is sent once the
/// worker has processed the batch and journaled it: "accepted" means durable.
enum TickIngest {
    static func accept(_ context: RequestContext, inputs: [TickInput], guard ingestGuard: IngestGuard) -> Response {
        if let denied = ingestGuard.check(context.request.headers) { return denied.response }
        let contentType = context.request.headers[first: "Content-Type"] ?? "application/json"
        guard let format = TickFormat(contentType: contentType) else {
            return .error(415, code: "unsupported_media_type",
                          message: "Content-Type \(contentType) is not supported: use application/json, application/x-ndjson or text/csv")
        }
        var result = TickDecoder.decode(context.request.body, format: format)
        if result.ticks.isEmpty, let documentError = result.documentError {
            return .error(400, code: "invalid_body", message: documentError)
        }
        if result.ticks.isEmpty && result.rejected.isEmpty {
            return .error(400, code: "invalid_body", message: "no ticks in the body")
        }
        guard !inputs.isEmpty else {
            return .error(503, code: "pipeline_unavailable", message: "the pipeline is not running")
        }
        let input = inputs[context.loopIndex % inputs.count]
        // The venues' rules: prices on the tick grid, volumes in whole lots where enforced.
        input.markets.screen(&result.ticks, &result.rejected)
        input.countInvalid(result.rejected.map { $0.field ?? "record" })
        if input.freeCapacity < result.ticks.count {
            input.rejectedFull.wrappingAdd(result.ticks.count, ordering: .relaxed)
            var busy = Response.error(503, code: "pipeline_busy",
                                      message: "the pipeline is busy: \(result.ticks.count) ticks not accepted, retry shortly")
            busy.headers.add("Retry-After", "1")
            return busy
        }
        input.submit(contentsOf: result.ticks, receivedNs: context.receivedNs)
        var w = JSONWriter()
        w.beginObject()
        w.int("accepted", result.ticks.count)
        EventEncoder.rejected(result.rejected, &w)
        if let documentError = result.documentError { w.string("warning", "input ended early: \(documentError)") }
        w.endObject()
        // 202 once the worker has processed the ticks and journaled their inputs and events
        // (tens of µs): an accepted tick survives a crash right after the answer.
        let accepted = Response.json(202, w.bytes)
        var response = Response(status: 202)
        response.deferred = { done in
            input.whenCommitted { committed in
                done(committed ? accepted
                     : .error(503, code: "pipeline_stopped", message: "the server stopped before these ticks were processed"))
            }
        }
        return response
    }
}
