import HTTP

/// Protects `/admin/*`: with a token configured, requests need `Authorization: Bearer <token>`
/// (compared in constant time); without one, only loopback clients are admitted.
public struct AdminGuard: Sendable {
    let token: String?

    public init(token: String?) { self.token = token }

    func protect(_ handler: @escaping RouteHandler) -> RouteHandler {
        let token = self.token
        return { context in
            if let token {
                guard let header = context.request.headers[first: "Authorization"] else {
                    var r = Response.error(401, code: "unauthorized", message: "admin endpoints need a bearer token")
                    r.headers.add("WWW-Authenticate", "Bearer realm=\"dongfeng-admin\"")
                    return r
                }
                let prefix = "Bearer "
                guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == "bearer ",
                      ConstantTime.equals(header.dropFirst(prefix.count), token) else {
                    return .error(403, code: "forbidden", message: "invalid admin token")
                }
            } else if !context.isLoopback {
                return .error(403, code: "forbidden",
                              message: "admin endpoints are reachable from loopback only when no admin token is set")
            }
            return handler(context)
        }
    }
}
