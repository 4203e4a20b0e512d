import HTTP

/// Serves `Public/` from memory: `/` → index.html, ETag/Last-Modified revalidation, gzip.
enum StaticRoutes {
    static func register(into router: inout Router<RouteHandler>, store: StaticFileStore, gzip: Bool) {
        let handler: RouteHandler = { context in
            let request = context.request
            guard let file = store.lookup(path: request.path) else {
                return .error(404, code: "not_found", message: "no resource at \(request.path)")
            }
            let acceptEncoding = gzip ? request.headers[first: "Accept-Encoding"] : nil
            if !request.headers.contains("If-None-Match") && !request.headers.contains("If-Modified-Since") {
                // A plain 200: the answer's fields were made when the file was loaded.
                if let compressed = file.gzip, let acceptEncoding, StaticResponder.prefersGzip(acceptEncoding) {
                    return Response(status: 200, headers: file.gzipHeaders, body: compressed)
                }
                return Response(status: 200, headers: file.identityHeaders, body: file.identity)
            }
            let answer = StaticResponder.answer(
                file,
                acceptEncoding: acceptEncoding,
                ifNoneMatch: request.headers[first: "If-None-Match"],
                ifModifiedSince: request.headers[first: "If-Modified-Since"])
            return Response(status: answer.status, headers: HTTPHeaders(answer.headers), body: answer.body)
        }
        router.add(.get, "/", handler)
        router.add(.get, "/*", handler)
    }
}
