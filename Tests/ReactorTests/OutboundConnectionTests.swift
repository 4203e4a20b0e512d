import Locks
import Foundation
import Reactor
import Synchronization
import XCTest

/// Collects what an outbound client connection saw.
final class ClientLog: Sendable {
    let received = PThreadLocked<[UInt8]>([])
    let opened = Atomic<Bool>(false)
    let closed = PThreadLocked<CloseReason?>(nil)
}

/// Sends `message` once open; records replies and the close.
final class SendingClient: ConnectionHandler {
    let log: ClientLog
    let message: [UInt8]
    init(log: ClientLog, message: String) {
        self.log = log
        self.message = Array(message.utf8)
    }
    func connectionDidOpen(_ connection: Connection) {
        log.opened.store(true, ordering: .relaxed)
        connection.write(message)
    }
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        log.received.withLock { $0 += bytes }
    }
    func connectionDidDrainWrites(_ connection: Connection) {}
    func connectionDeadlineExpired(_ connection: Connection) {}
    func connectionShouldDrain(_ connection: Connection) { connection.close() }
    func connectionDidClose(_ connection: Connection, reason: CloseReason) { log.closed.withLock { $0 = reason } }
}

/// `EventLoop.connect`: non-blocking connect and client-side TLS on the reactor.
final class OutboundConnectionTests: XCTestCase {
    private func wait(_ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(10)
        while !condition() && Date() < deadline { usleep(5_000) }
    }

    func testTLSClientVerifiesTheServerAndExchangesBytes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dongfeng-outbound-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try SelfSignedCertificate.generate(in: dir)
        let server = try TLSContext(options: TLSOptions(certificateChainFile: files.certificate, privateKeyFile: files.privateKey))
        let group = try EventLoopGroup(loopCount: 1, maxConnections: 100, sweepIntervalMs: 20)
        let events = Events()
        let port = try group.listen(ListenerOptions(host: "127.0.0.1", port: 0, tls: server)) { _ in EchoHandler(events: events) }
        group.start()
        defer { group.stopNow(); group.waitUntilStopped() }

        // Trusting the generated certificate, by IP address (it lists 127.0.0.1).
        let trusted = try TLSContext(clientVerifying: true, caFile: files.certificate)
        let good = ClientLog()
        let loop = group.loops[0]
        loop.execute { _ = try? loop.connect(host: "127.0.0.1", port: port, tls: trusted, handler: SendingClient(log: good, message: "ping over TLS")) }
        wait { good.received.withLock { $0.count } >= 13 }
        XCTAssertTrue(good.opened.load(ordering: .relaxed))
        XCTAssertEqual(String(decoding: good.received.withLock { $0 }, as: UTF8.self), "ping over TLS")

        // A name the certificate does not carry fails verification: no open, a close with a reason.
        let wrongName = ClientLog()
        loop.execute {
            _ = try? loop.connect(host: "127.0.0.1", port: port, tls: trusted, serverName: "example.com",
                                  handler: SendingClient(log: wrongName, message: "x"))
        }
        wait { wrongName.closed.withLock { $0 } != nil }
        XCTAssertFalse(wrongName.opened.load(ordering: .relaxed))
        guard case .handshakeFailed? = wrongName.closed.withLock({ $0 }) else {
            return XCTFail("expected a failed handshake, got \(String(describing: wrongName.closed.withLock { $0 }))")
        }

        // Nothing listening: the connect fails without blocking the loop.
        let refused = ClientLog()
        loop.execute { _ = try? loop.connect(host: "127.0.0.1", port: 1, handler: SendingClient(log: refused, message: "x")) }
        wait { refused.closed.withLock { $0 } != nil }
        XCTAssertFalse(refused.opened.load(ordering: .relaxed))
        guard case .ioError(let err)? = refused.closed.withLock({ $0 }) else { return XCTFail("expected an I/O error") }
        XCTAssertEqual(err, ECONNREFUSED)
    }
}
