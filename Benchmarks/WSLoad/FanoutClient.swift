import Reactor
import Synchronization

/// Counters shared by every client connection of the load generator (relaxed atomics: each is
/// bumped by its loop thread and read once a second by the main thread).
final class LoadStats: Sendable {
    let upgraded = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let closed = Atomic<Int>(0)
    let messages = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let compressedMessages = Atomic<Int>(0)
}

/// One WSS subscriber on the reactor: sends the upgrade, checks the 101, then counts messages
/// frame by frame without copying when a read holds whole frames. Answers pings.
final class FanoutClient: ConnectionHandler {
    let stats: LoadStats
    let request: [UInt8]
    let probe: Probe?
    private var upgraded = false
    private var pending: [UInt8] = []
    private var messages = 0
    private var bytes = 0

    init(stats: LoadStats, path: String, deflate: Bool, probe: Probe? = nil) {
        self.stats = stats
        self.probe = probe
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if deflate { head += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" }
        request = Array((head + "\r\n").utf8)
    }

    func connectionDidOpen(_ connection: Connection) { connection.write(request) }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        if !upgraded {
            pending.append(contentsOf: bytes)
            guard let end = BlockingTLS.find(pending, [13, 10, 13, 10]) else { return }
            guard pending.starts(with: Array("HTTP/1.1 101".utf8)) else {
                stats.failed.wrappingAdd(1, ordering: .relaxed)
                connection.close()
                return
            }
            upgraded = true
            stats.upgraded.wrappingAdd(1, ordering: .relaxed)
            pending.removeFirst(end + 4)
            if !pending.isEmpty {
                let rest = pending
                pending = []
                rest.withUnsafeBytes { consume($0, connection) }
            }
            return
        }
        if pending.isEmpty {
            consume(bytes, connection)
        } else {
            pending.append(contentsOf: bytes)
            let all = pending
            pending = []
            all.withUnsafeBytes { consume($0, connection) }
        }
    }

    /// Counts every whole frame; keeps a partial one for the next read.
    private func consume(_ bytes: UnsafeRawBufferPointer, _ connection: Connection) {
        var i = 0
        var count = 0
        var compressed = 0
        while let (opcode, start, length) = WSClientFrames.header(bytes, from: i) {
            switch opcode {
            case 1, 2:
                count += 1
                if bytes[i] & 0x40 != 0 { compressed += 1 } else if opcode == 1, let probe { probe.inspect(bytes, start: start, length: length) }
            case 9:  // ping → masked pong with the same payload (mask of zeros)
                var pong: [UInt8] = [0x8A, 0x80 | UInt8(length), 0, 0, 0, 0]
                pong += bytes[start..<(start + length)]
                connection.write(pong)
            case 8:
                connection.close()
            default: break
            }
            i = start + length
        }
        if i < bytes.count { pending.append(contentsOf: bytes[i...]) }
        if count > 0 {
            stats.messages.wrappingAdd(count, ordering: .relaxed)
            stats.bytes.wrappingAdd(i, ordering: .relaxed)
            if compressed > 0 { stats.compressedMessages.wrappingAdd(compressed, ordering: .relaxed) }
        }
    }

    func connectionDidDrainWrites(_ connection: Connection) {}
    func connectionDeadlineExpired(_ connection: Connection) {}
    func connectionShouldDrain(_ connection: Connection) { connection.close() }
    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        if !upgraded { stats.failed.wrappingAdd(1, ordering: .relaxed) }
        stats.closed.wrappingAdd(1, ordering: .relaxed)
    }
}
