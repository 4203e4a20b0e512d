import Locks
import CLinux
import Glibc
import Reactor
import Synchronization
import Foundation
import XCTest

/// Records what handlers saw, readable from the test thread.
final class Events: Sendable {
    let closes = PThreadLocked<[CloseReason]>([])
    let deadlines = Atomic<Int>(0)
    let opened = Atomic<Int>(0)
}

/// Echoes input; optionally writes a big blob on open; optionally sets a deadline.
final class EchoHandler: ConnectionHandler {
    let events: Events
    let blobOnOpen: Int
    let deadlineMs: Int64
    init(events: Events, blobOnOpen: Int = 0, deadlineMs: Int64 = 0) {
        self.events = events
        self.blobOnOpen = blobOnOpen
        self.deadlineMs = deadlineMs
    }
    func connectionDidOpen(_ connection: Connection) {
        events.opened.wrappingAdd(1, ordering: .relaxed)
        if deadlineMs > 0 { connection.setDeadline(afterMs: deadlineMs) }
        if blobOnOpen > 0 {
            let blob = [UInt8](repeating: 7, count: 256 * 1024)
            var sent = 0
            while sent < blobOnOpen && connection.isOpen {
                if connection.write(blob) == .overflow { break }
                sent += blob.count
            }
        }
    }
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) { connection.write(bytes) }
    func connectionDidDrainWrites(_ connection: Connection) {}
    func connectionDeadlineExpired(_ connection: Connection) {
        events.deadlines.wrappingAdd(1, ordering: .relaxed)
        connection.close()
    }
    func connectionShouldDrain(_ connection: Connection) { connection.closeAfterFlush() }
    func connectionDidClose(_ connection: Connection, reason: CloseReason) { events.closes.withLock { $0.append(reason) } }
}

final class EventLoopTests: XCTestCase {
    private func startGroup(maxWriteQueue: Int = 4 << 20, _ make: @escaping @Sendable () -> ConnectionHandler)
        throws -> (EventLoopGroup, Int)
    {
        let group = try EventLoopGroup(loopCount: 1, maxConnections: 100, sweepIntervalMs: 20)
        let port = try group.listen(ListenerOptions(host: "127.0.0.1", port: 0, maxWriteQueueBytes: maxWriteQueue,
                                                    name: "tcp")) { _ in make() }
        group.start()
        return (group, port)
    }

    private func connect(_ port: Int) -> Int32 {
        let fd = dfl_connect_tcp("127.0.0.1", Int32(port))
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    func testEchoOfOneMegabyteSurvivesShortWrites() throws {
        let events = Events()
        let (group, port) = try startGroup { EchoHandler(events: events) }
        defer { group.stopNow(); group.waitUntilStopped() }
        let fd = connect(port)
        defer { close(fd) }
        var payload = [UInt8](repeating: 0, count: 1 << 20)
        for i in payload.indices { payload[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        // Writer thread, so the server's outbound queue fills while we are not reading yet.
        let writer = Thread { [payload] in
            _ = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        writer.start()
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while received.count < payload.count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            received.append(contentsOf: chunk[0..<n])
        }
        XCTAssertEqual(received.count, payload.count)
        XCTAssertTrue(received == payload, "echoed bytes differ")
    }

    func testWriteQueueCapClosesAClientThatDoesNotRead() throws {
        let events = Events()
        let (group, port) = try startGroup(maxWriteQueue: 1 << 20) { EchoHandler(events: events, blobOnOpen: 64 << 20) }
        defer { group.stopNow(); group.waitUntilStopped() }
        let fd = connect(port)
        defer { close(fd) }
        for _ in 0..<200 where events.closes.withLock({ $0.isEmpty }) { usleep(20_000) }
        XCTAssertEqual(events.closes.withLock { $0 }, [.writeQueueOverflow])
        XCTAssertEqual(group.counters.writeQueueOverflows.load(ordering: .relaxed), 1)
    }

    func testDeadlineFiresAndExecuteRunsOnTheLoop() throws {
        let events = Events()
        let (group, port) = try startGroup { EchoHandler(events: events, deadlineMs: 100) }
        defer { group.stopNow(); group.waitUntilStopped() }
        let fd = connect(port)
        defer { close(fd) }
        var byte: UInt8 = 0
        XCTAssertEqual(recv(fd, &byte, 1, 0), 0, "server should close at the deadline")
        XCTAssertEqual(events.deadlines.load(ordering: .relaxed), 1)
        let ran = Atomic<Bool>(false)
        let done = DispatchSemaphoreLike()
        group.loops[0].execute {
            ran.store(true, ordering: .relaxed)
            done.signal()
        }
        XCTAssertTrue(done.wait(seconds: 5))
        XCTAssertTrue(ran.load(ordering: .relaxed))
    }

    func testWakeupRunsOnTheLoopThreadAndConfinementIsKnown() throws {
        let group = try EventLoopGroup(loopCount: 1, maxConnections: 10, sweepIntervalMs: 20)
        let loop = group.loops[0]
        XCTAssertTrue(loop.isLoopThreadOrIdle, "setup before run is allowed from the starting thread")
        let onLoop = Atomic<Int>(0)
        let calls = Atomic<Int>(0)
        let wakeup = try loop.makeWakeup {
            if loop.isLoopThreadOrIdle { onLoop.wrappingAdd(1, ordering: .relaxed) }
            calls.wrappingAdd(1, ordering: .relaxed)
        }
        group.start()
        defer { group.stopNow(); group.waitUntilStopped() }
        let started = DispatchSemaphoreLike()
        loop.execute { started.signal() }
        XCTAssertTrue(started.wait(seconds: 5))
        XCTAssertFalse(loop.isLoopThreadOrIdle, "a running loop belongs to its thread")
        wakeup.signal()
        for _ in 0..<250 where calls.load(ordering: .relaxed) == 0 { usleep(10_000) }
        XCTAssertEqual(calls.load(ordering: .relaxed), 1)
        XCTAssertEqual(onLoop.load(ordering: .relaxed), 1)
    }

    /// Signals coalesce (only the first after the handler started counts, and it writes the
    /// eventfd only if the loop sleeps), yet work published at any moment is always seen: two
    /// threads each publish an item, signal, and wait until the handler has taken it, 10,000
    /// times over, while the handler works on after each look. A signal lost in the window
    /// between the handler's look and the flag's reset would leave an item untaken for good.
    func testCoalescedWakeupsNeverLeaveWorkBehind() throws {
        let group = try EventLoopGroup(loopCount: 1, maxConnections: 10, sweepIntervalMs: 20)
        let loop = group.loops[0]
        let published = Atomic<Int>(0)
        let taken = Atomic<Int>(0)
        let stuck = Atomic<Int>(0)
        let wakeup = try loop.makeWakeup {
            taken.store(published.load(ordering: .sequentiallyConsistent), ordering: .sequentiallyConsistent)
            // A real handler goes on to fan out what it took: an item published meanwhile
            // must bring it back.
            let until = DispatchTime.now().uptimeNanoseconds + 20_000
            while DispatchTime.now().uptimeNanoseconds < until {}
        }
        group.start()
        defer { group.stopNow(); group.waitUntilStopped() }
        let finished = Atomic<Int>(0)
        for _ in 0..<2 {
            Thread.detachNewThread {
                for _ in 0..<10_000 {
                    let mine = published.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
                    wakeup.signal()
                    let deadline = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
                    while taken.load(ordering: .sequentiallyConsistent) < mine {
                        if DispatchTime.now().uptimeNanoseconds > deadline {
                            stuck.wrappingAdd(1, ordering: .relaxed)
                            break
                        }
                        sched_yield()
                    }
                    if stuck.load(ordering: .relaxed) > 0 { break }
                }
                finished.wrappingAdd(1, ordering: .sequentiallyConsistent)
            }
        }
        for _ in 0..<6_000 where finished.load(ordering: .sequentiallyConsistent) < 2 { usleep(10_000) }
        XCTAssertEqual(finished.load(ordering: .sequentiallyConsistent), 2)
        XCTAssertEqual(stuck.load(ordering: .relaxed), 0, "an item published before its signal was never taken")
        XCTAssertEqual(taken.load(ordering: .relaxed), published.load(ordering: .relaxed))
    }

    func testTasksQueuedAtStopRunAndLaterOnesAreReleased() throws {
        final class Token: Sendable {}
        let group = try EventLoopGroup(loopCount: 1, maxConnections: 10, sweepIntervalMs: 20)
        let loop = group.loops[0]
        let ran = Atomic<Int>(0)
        // Queued before the loop runs, and while it runs right before the stop: all of them run.
        // (A task queued after `stopNow` races the loop's last drain: it runs or is released.)
        for _ in 0..<3 { loop.execute { ran.wrappingAdd(1, ordering: .relaxed) } }
        group.start()
        loop.execute { ran.wrappingAdd(1, ordering: .relaxed) }
        group.stopNow()
        group.waitUntilStopped()
        XCTAssertEqual(ran.load(ordering: .relaxed), 4)
        XCTAssertTrue(loop.isLoopThreadOrIdle, "a stopped loop has no thread")
        // After the last iteration a task is not kept: what it captured is freed at once.
        weak var released: Token?
        do {
            let token = Token()
            released = token
            loop.execute { _ = token; ran.wrappingAdd(1, ordering: .relaxed) }
        }
        XCTAssertNil(released)
        XCTAssertEqual(ran.load(ordering: .relaxed), 4)
    }

    func testGracefulDrainLetsHandlersFinishThenStops() throws {
        let events = Events()
        let (group, port) = try startGroup { EchoHandler(events: events) }
        let fd = connect(port)
        defer { close(fd) }
        for _ in 0..<100 where events.opened.load(ordering: .relaxed) == 0 { usleep(10_000) }
        group.beginShutdown(graceMs: 2_000)
        var byte: UInt8 = 0
        XCTAssertEqual(recv(fd, &byte, 1, 0), 0)
        group.waitUntilStopped()
        XCTAssertEqual(group.openConnections, 0)
        XCTAssertLessThan(dfl_connect_tcp("127.0.0.1", Int32(port)), 0, "listener must be closed")
    }
}

/// A tiny semaphore on an atomic flag + polling, to keep the test free of Dispatch.
final class DispatchSemaphoreLike: Sendable {
    private let flag = Atomic<Bool>(false)
    func signal() { flag.store(true, ordering: .releasing) }
    func wait(seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if flag.load(ordering: .acquiring) { return true }
            usleep(1_000)
        }
        return false
    }
}
