import Foundation
import Synchronization
import Pipeline

/// SPSC ring throughput: one producer thread, one consumer (this thread), batch drain.
enum RingBench {
    static func run(messages: Int) -> (perSecond: Double, checksumOK: Bool) {
        let ring = SPSCRing<UInt64>(capacity: 4096)
        let start = Atomic<Bool>(false)
        let producer = Thread {
            while !start.load(ordering: .acquiring) {}
            var i: UInt64 = 0
            while i < UInt64(messages) {
                if ring.tryPush(i) { i += 1 }
            }
        }
        producer.start()
        var received = 0
        var sum: UInt64 = 0
        let t0 = now()
        start.store(true, ordering: .releasing)
        while received < messages {
            received += ring.drain { v, _ in sum &+= v }
        }
        let elapsed = now() - t0
        let n = UInt64(messages)
        return (Double(messages) / elapsed, sum == n * (n - 1) / 2)
    }
}
