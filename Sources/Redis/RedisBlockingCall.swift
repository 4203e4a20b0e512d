import CLinux
import Glibc

/// A few commands on a short-lived blocking connection, for the moments no reactor loop runs:
/// a gateway's shutdown, after its loops have stopped (final acknowledgements, handing leases
/// back). Waits at most `timeoutSeconds` for each read; nil when Redis cannot be reached or
/// answers short.
public enum RedisBlockingCall {
    /// `followingRedirects` (Redis Cluster): each command alone, sent again to the node a
    /// `-MOVED` or `-ASK` names (three hops at most).
    public static func send(_ commands: [[String]], host: String, port: Int, timeoutSeconds: Int = 1,
                            followingRedirects: Bool) -> [RESPValue]? {
        guard followingRedirects else { return send(commands, host: host, port: port, timeoutSeconds: timeoutSeconds) }
        var replies: [RESPValue] = []
        for command in commands {
            var (h, p) = (host, port)
            var asking = false
            var hops = 0
            while true {
                guard let reply = send(asking ? [["ASKING"], command] : [command], host: h, port: p, timeoutSeconds: timeoutSeconds)?.last else {
                    return nil
                }
                guard case .error(let message) = reply, hops < 3 else {
                    replies.append(reply)
                    break
                }
                let words = message.split(separator: " ")
                guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK", let colon = words[2].lastIndex(of: ":"),
                      let next = Int(words[2][words[2].index(after: colon)...]) else {
                    replies.append(reply)
                    break
                }
                (h, p) = (String(words[2][..<colon]), next)
                asking = words[0] == "ASK"
                hops += 1
            }
        }
        return replies
    }

    public static func send(_ commands: [[String]], host: String, port: Int, timeoutSeconds: Int = 1) -> [RESPValue]? {
        guard !commands.isEmpty else { return [] }
        let fd = dfl_connect_tcp(host, Int32(port))
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        for command in commands { RESPEncoder.command(command, into: &out) }
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            guard n > 0 else { return nil }
            sent += n
        }
        var parser = RESPParser()
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        var replies: [RESPValue] = []
        while replies.count < commands.count {
            switch parser.next() {
            case .value(let v): replies.append(v)
            case .failure: return nil
            case .needMore:
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { return nil }
                buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
        return replies
    }
}
