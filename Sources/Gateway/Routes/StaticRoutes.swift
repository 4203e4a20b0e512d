import HTTP

/// Serves `Public/` from memory: `/` → index.html, ETag/Last-Modified revalidation, gzip.
enum StaticRoutes {
    static func register(into router: inout Router<RouteHandler>, store: StaticFileStore, gzip: Bool) {
        let handler: RouteHandler = { context in
            let request = context.request
            guard let file = store.lookup(path: request.path) else {
                return .error(404, code: "not_found", message: "no resource at \(request.path)")
            }
            let answer = StaticResponder.answer(
                file,
                acceptEncoding: gzip ? request.headers[first: "Accept-Encoding"] : nil,
                ifNoneMatch: request.headers[first: "If-None-Match"],
                ifModifiedSince: request.headers[first: "If-Modified-Since"])
            return Response(status: answer.status, headers: HTTPHeaders(answer.headers), body: answer.body)
        }
        router.add(.get, "/", handler)
        router.add(.get, "/*", handler)
    }
}
