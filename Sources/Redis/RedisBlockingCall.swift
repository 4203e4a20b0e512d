import CLinux
import Glibc

/// A few commands on a short-lived blocking connection, for the moments no reactor loop runs:
/// a gateway's shutdown, after its loops have stopped (final acknowledgements, handing leases
/// back). Waits at most `timeoutSeconds` for each read; nil when Redis cannot be reached or
/// answers short.
public enum RedisBlockingCall {
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
