import Foundation
import Pipeline
import Synchronization
import XCTest

final class SPSCRingTests: XCTestCase {
    func testFIFOAndCapacity() {
        let ring = SPSCRing<Int>(capacity: 5)
        XCTAssertEqual(ring.capacity, 8)
        for i in 0..<8 { XCTAssertTrue(ring.tryPush(i)) }
        XCTAssertFalse(ring.tryPush(99), "a full ring refuses")
        XCTAssertEqual(ring.count, 8)
        var seen: [Int] = []
        var ends: [Bool] = []
        XCTAssertEqual(ring.drain(limit: 5) { v, end in seen.append(v); ends.append(end) }, 5)
        XCTAssertEqual(seen, [0, 1, 2, 3, 4])
        XCTAssertEqual(ends, [false, false, false, false, true])
        for i in 8..<13 { XCTAssertTrue(ring.tryPush(i)) }  // wraps around
        var rest: [Int] = []
        while let v = ring.tryPop() { rest.append(v) }
        XCTAssertEqual(rest, Array(5..<13))
        XCTAssertTrue(ring.isEmpty)
    }

    func testBatchPushTakesWhatFits() {
        let ring = SPSCRing<Int>(capacity: 8)
        let values = Array(0..<12)
        XCTAssertEqual(values.withUnsafeBufferPointer { ring.tryPush(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<5])) }, 5)
        XCTAssertEqual(values.withUnsafeBufferPointer { ring.tryPush(contentsOf: UnsafeBufferPointer(rebasing: $0[5..<12])) }, 3)
        var got: [Int] = []
        ring.drain { v, _ in got.append(v) }
        XCTAssertEqual(got, Array(0..<8))
        XCTAssertEqual(values.withUnsafeBufferPointer { ring.tryPush(contentsOf: UnsafeBufferPointer(rebasing: $0[8..<12])) }, 4)
        got.removeAll()
        ring.drain { v, _ in got.append(v) }
        XCTAssertEqual(got, Array(8..<12))
    }

    func testRejectPolicyNeverDropsSilently() {
        let ring = SPSCRing<Int>(capacity: 4)
        let bell = Doorbell()
        var rejected = 0
        for i in 0..<10 where !ring.push(i, policy: .reject, doorbell: bell) { rejected += 1 }
        XCTAssertEqual(rejected, 6)
        var got: [Int] = []
        ring.drain { v, _ in got.append(v) }
        XCTAssertEqual(got, [0, 1, 2, 3])
    }

    final class Tracked {
        static let alive = Atomic<Int>(0)
        let value: Int
        init(_ value: Int) { self.value = value; Tracked.alive.wrappingAdd(1, ordering: .relaxed) }
        deinit { Tracked.alive.wrappingSubtract(1, ordering: .relaxed) }
    }

    func testReferencesAreMovedNotLeaked() {
        do {
            let ring = SPSCRing<Tracked>(capacity: 16)
            for i in 0..<10 { _ = ring.tryPush(Tracked(i)) }
            var sum = 0
            ring.drain(limit: 6) { t, _ in sum += t.value }
            XCTAssertEqual(sum, 15)
            XCTAssertEqual(Tracked.alive.load(ordering: .relaxed), 4)
        }
        XCTAssertEqual(Tracked.alive.load(ordering: .relaxed), 0, "elements left in a ring die with it")
    }

    /// Millions of messages across two threads: order and checksum must hold.
    func testStressOneProducerOneConsumer() {
        let total = 5_000_000
        let ring = SPSCRing<UInt64>(capacity: 1024)
        let bell = Doorbell()
        let producer = Thread {
            for i in 0..<UInt64(total) { _ = ring.push(i &* 2_654_435_761, policy: .block, doorbell: bell) }
        }
        producer.start()
        var received = 0
        var checksum: UInt64 = 0
        var inOrder = true
        while received < total {
            bell.wait { !ring.isEmpty }
            ring.drain { v, _ in
                if v != UInt64(received) &* 2_654_435_761 { inOrder = false }
                checksum &+= v
                received += 1
            }
        }
        var expected: UInt64 = 0
        for i in 0..<UInt64(total) { expected &+= i &* 2_654_435_761 }
        XCTAssertTrue(inOrder)
        XCTAssertEqual(checksum, expected)
        XCTAssertTrue(ring.isEmpty)
    }

    /// Several producers, one ring each, merged by one consumer that parks when idle.
    func testStressManyProducersMergedWithParking() {
        let producers = 3
        let perProducer = 400_000
        let rings = (0..<producers).map { _ in SPSCRing<UInt64>(capacity: 256) }
        let bell = Doorbell(spins: 50)
        let finished = Atomic<Int>(0)
        for p in 0..<producers {
            Thread {
                for i in 0..<perProducer {
                    _ = rings[p].push(UInt64(p) << 32 | UInt64(i), policy: .block, doorbell: bell)
                    if i % 50_000 == 0 { usleep(2_000) }  // pauses make the consumer park
                }
                finished.wrappingAdd(1, ordering: .releasing)
            }.start()
        }
        var next = [UInt64](repeating: 0, count: producers)
        var received = 0
        var ordered = true
        while received < producers * perProducer {
            bell.wait(timeoutMs: 1_000) { rings.contains { !$0.isEmpty } }
            for ring in rings {
                ring.drain { v, _ in
                    let p = Int(v >> 32)
                    if v & 0xffff_ffff != next[p] { ordered = false }
                    next[p] += 1
                    received += 1
                }
            }
        }
        XCTAssertTrue(ordered, "each producer's messages arrive in order")
        XCTAssertEqual(next, [UInt64](repeating: UInt64(perProducer), count: producers))
        while finished.load(ordering: .acquiring) < producers { usleep(1_000) }
        XCTAssertGreaterThan(bell.parks.load(ordering: .relaxed), 0, "an idle consumer must sleep, not spin")
    }

    func testIdleConsumerSleepsUntilRung() {
        let ring = SPSCRing<Int>(capacity: 8)
        let bell = Doorbell(spins: 10)
        let got = Atomic<Int>(-1)
        let consumer = Thread {
            bell.wait { !ring.isEmpty }
            got.store(ring.tryPop() ?? -2, ordering: .releasing)
        }
        consumer.start()
        usleep(50_000)
        XCTAssertEqual(bell.parks.load(ordering: .relaxed), 1, "consumer should be parked")
        XCTAssertTrue(ring.push(42, policy: .reject, doorbell: bell))
        for _ in 0..<500 where got.load(ordering: .acquiring) == -1 { usleep(1_000) }
        XCTAssertEqual(got.load(ordering: .acquiring), 42)
    }
}
