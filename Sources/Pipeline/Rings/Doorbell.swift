import CLinux
import Glibc
import Synchronization

/// How a consumer waits for work: spin briefly (work usually arrives within microseconds under
/// load), then park on a futex so an idle pipeline uses no CPU. An event count (`epoch`) plus a
/// waiter count make the hand-off race-free:
///
///     consumer: waiters += 1; key = epoch; if work { cancel } else { futex_wait(epoch, key) }
///     producer: publish; fence; if waiters > 0 { epoch += 1; futex_wake }
///
/// Both sides order "announce, then look" with sequentially consistent operations, so either
/// the producer sees the waiter or the consumer sees the work (no lost wake-up).
public final class Doorbell: @unchecked Sendable {
    private let epoch: UnsafeMutablePointer<Atomic<UInt32>>
    private let waiters = Atomic<Int>(0)
    public let spins: Int
    /// Times the consumer actually slept (a gauge for "is the pipeline idle").
    public let parks = Atomic<Int>(0)

    public init(spins: Int = 2_000) {
        self.spins = spins
        epoch = .allocate(capacity: 1)
        epoch.initialize(to: Atomic(0))
    }

    deinit { epoch.deallocate() }

    /// Producer side: call after publishing. Costs a fence and a load when nobody sleeps.
    @inline(__always)
    public func ring() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if waiters.load(ordering: .sequentiallyConsistent) > 0 {
            epoch.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
            _ = dfl_futex_wake(address, Int32.max)
        }
    }

    /// Wakes a sleeping consumer regardless of work (shutdown, timers).
    public func wakeAll() {
        epoch.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        _ = dfl_futex_wake(address, Int32.max)
    }

    /// Consumer side: returns when `hasWork()` is true, or after `timeoutMs` (< 0: no timeout),
    /// or on `wakeAll()`. Spins `spins` times before sleeping.
    public func wait(timeoutMs: Int32 = -1, _ hasWork: () -> Bool) {
        for _ in 0..<spins {
            if hasWork() { return }
            spinHint()
        }
        waiters.wrappingAdd(1, ordering: .sequentiallyConsistent)
        let key = epoch.pointee.load(ordering: .sequentiallyConsistent)
        if !hasWork() {
            parks.wrappingAdd(1, ordering: .relaxed)
            _ = dfl_futex_wait(address, key, timeoutMs)
        }
        waiters.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }

    private var address: UnsafeMutablePointer<UInt32> { UnsafeMutableRawPointer(epoch).assumingMemoryBound(to: UInt32.self) }

    @inline(__always)
    private func spinHint() {
        #if arch(x86_64) || arch(arm64)
        // Keeps the spin loop from starving a sibling hyper-thread; no intrinsic in Swift, so a
        // relaxed load the optimiser cannot drop stands in.
        _ = waiters.load(ordering: .relaxed)
        #endif
    }
}

/// What a producer does when its ring is full: never drop silently.
public enum FullRingPolicy: Sendable {
    /// Wait (backing off to short sleeps) until the consumer frees a slot: for feeds.
    case block
    /// Refuse the element; the caller counts it and tells its client (HTTP 503 + Retry-After).
    case reject
}

extension SPSCRing {
    /// Pushes under `policy`, ringing `doorbell` on success. Returns false only for `.reject` on a
    /// full ring. `.block` backs off from spinning to 50 µs … 1 ms sleeps, so a stalled consumer
    /// does not make the producer burn a core.
    @inline(__always)
    public func push(_ element: Element, policy: FullRingPolicy, doorbell: Doorbell) -> Bool {
        if tryPush(element) {
            doorbell.ring()
            return true
        }
        guard case .block = policy else { return false }
        var attempt = 0
        while !tryPush(element) {
            doorbell.ring()  // make sure a parked consumer is draining
            attempt += 1
            if attempt > 64 { Backoff.sleep(microseconds: min(1_000, 50 << min(attempt - 64, 4))) }
        }
        doorbell.ring()
        return true
    }
}

enum Backoff {
    static func sleep(microseconds: Int) {
        var ts = timespec(tv_sec: 0, tv_nsec: microseconds * 1_000)
        nanosleep(&ts, nil)
    }
}
