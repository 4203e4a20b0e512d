import Foundation
import Synchronization
import Pipeline

/// SPSC ring throughput: one producer thread, one consumer (this thread), batch drain.
enum RingBench {
    /// `batch` 1 publishes every element; larger batches publish `batch` elements per store.
    static func run(messages: Int, batch: Int = 1) -> (perSecond: Double, checksumOK: Bool) {
        let ring = SPSCRing<UInt64>(capacity: 4096)
        let start = Atomic<Bool>(false)
        let producer = Thread {
            while !start.load(ordering: .acquiring) {}
            var i: UInt64 = 0
            if batch == 1 {
                while i < UInt64(messages) {
                    if ring.tryPush(i) { i += 1 }
                }
            } else {
                var staging = [UInt64](repeating: 0, count: batch)
                while i < UInt64(messages) {
                    let k = min(batch, messages - Int(i))
                    for j in 0..<k { staging[j] = i + UInt64(j) }
                    var sent = 0
                    while sent < k {
                        sent += staging.withUnsafeBufferPointer { ring.tryPush(contentsOf: UnsafeBufferPointer(rebasing: $0[sent..<k])) }
                    }
                    i += UInt64(k)
                }
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
