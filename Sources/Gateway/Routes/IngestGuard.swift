import HTTP

/// Optional ingest key (`api.ingest_key`): when set, tick ingest needs it in `X-API-Key`
/// (REST, and at the WebSocket upgrade or in the `ticks` message), compared in constant time.
struct IngestGuard: Sendable {
    let key: String?

    /// nil when the request may ingest; else the 401/403 answer.
    func check(_ headers: HTTPHeaders) -> APIError? { check(presented: headers[first: "X-API-Key"]) }

    func check(presented: String?) -> APIError? {
        guard let key else { return nil }
        guard let presented else {
            return APIError(status: 401, code: "unauthorized", message: "tick ingest needs an X-API-Key header")
        }
        return ConstantTime.equals(presented, key) ? nil : APIError(status: 403, code: "forbidden", message: "invalid API key")
    }
}
