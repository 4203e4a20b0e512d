import ArgumentParser
import Foundation
import Operator

/// `dongfeng health`: each component of a running server; exit 0 healthy, 1 degraded, 2 down
/// or unreachable (the seed's check_system_health, for scripts and for people).
struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a running server: each component, exit 0 healthy, 1 degraded, 2 down or unreachable.")

    @OptionGroup var client: ClientOptions
    @Flag(help: "Print the server's JSON instead of the table.")
    var json = false
    @Flag(help: "Liveness only (GET /health, no admin access): exit 0 when the server answers ok, else 2. For container HEALTHCHECKs and probes.")
    var live = false

    func run() throws {
        let http: OperatorHTTP
        let reply: HTTPReply
        do {
            http = try client.http()
            if live { try liveness(http) }
            reply = try http.get("/admin/health")
        } catch let error as ClientError {
            throw Terminal.fail("\(error) — status: down", code: 2)
        }
        if reply.status == 401 || reply.status == 403 {
            // No admin access: the liveness form says up or not, without components.
            FileHandle.standardError.write(Data("dongfeng: /admin/health refused (\(reply.errorMessage)); pass --token or DFP_ADMIN_TOKEN for components. Falling back to /health.\n".utf8))
            let simple: HTTPReply
            do { simple = try http.get("/health") } catch { throw Terminal.fail("\(error) — status: down", code: 2) }
            let status = (simple.json as? [String: Any])?["status"] as? String ?? "down"
            print(json ? simple.text : "\(client.url ?? "server"): \(Terminal.state(status)) (liveness only)")
            throw ExitCode(status == "ok" ? 0 : 2)
        }
        guard reply.status == 200 || reply.status == 503, let health = reply.json as? [String: Any] else {
            throw Terminal.fail("unexpected answer from /admin/health: \(reply.status) \(reply.errorMessage)", code: 2)
        }
        let status = health["status"] as? String ?? "down"
        if json {
            print(reply.text)
        } else {
            let endpoint = (try? client.endpoint().description) ?? ""
            let uptime = health["uptime_s"] as? Double ?? 0
            print("\(Terminal.bold("dongfeng \(health["version"] as? String ?? "?")")) at \(endpoint): \(Terminal.state(status).uppercased())"
                  + "  (up \(Self.duration(uptime)), \(health["connections"] as? Int ?? 0) connections)")
            let components = health["components"] as? [String: Any] ?? [:]
            let order = ["reactor", "pipeline", "feed", "journal", "redis"]
            for name in components.keys.sorted(by: { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }) {
                let c = components[name] as? [String: Any] ?? [:]
                let state = c["status"] as? String ?? "?"
                print("  \(Terminal.pad(name, 9)) \(Terminal.state(Terminal.pad(state, 9))) \(c["detail"] as? String ?? "")")
            }
            if let sources = health["sources"] as? [String: Any], !sources.isEmpty {
                let parts = sources.keys.sorted().map { name -> String in
                    let s = sources[name] as? [String: Any] ?? [:]
                    let age = (s["last_tick_age_ms"] as? Int).map { "\($0) ms ago" } ?? "no tick yet"
                    return "\(name): \(age)"
                }
                print(Terminal.dim("  sources   " + parts.joined(separator: ", ")))
            }
        }
        throw ExitCode(status == "ok" ? 0 : status == "degraded" ? 1 : 2)
    }

    /// `--live`: the server's own liveness answer, nothing else.
    private func liveness(_ http: OperatorHTTP) throws -> Never {
        let reply: HTTPReply
        do { reply = try http.get("/health") } catch { throw Terminal.fail("\(error) — status: down", code: 2) }
        let status = reply.status == 200 ? (reply.json as? [String: Any])?["status"] as? String ?? "down" : "down"
        print(json ? reply.text : "\(client.url ?? "server"): \(Terminal.state(status)) (liveness)")
        throw ExitCode(status == "ok" ? 0 : 2)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 120 { return "\(s) s" }
        if s < 7200 { return "\(s / 60) min" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
