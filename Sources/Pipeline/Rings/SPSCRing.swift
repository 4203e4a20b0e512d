import Synchronization

/// A bounded single-producer / single-consumer ring (Disruptor/Lamport style).
///
/// - Power-of-two capacity, slots allocated once: pushing and popping allocate nothing.
/// - `tail` (written by the producer) and `head` (written by the consumer) live on separate
///   128-byte blocks, each next to the one index its own side caches of the other side
///   (`cachedHead`, `cachedTail`), so the two threads never write the same cache line and the
///   shared indices are read only when the cached one says the ring looks full / empty.
/// - Release on publish, acquire on observe: a consumer that sees an index sees the slot.
///
/// Exactly one thread may call the producer methods and exactly one the consumer methods.
public final class SPSCRing<Element>: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private let slots: UnsafeMutablePointer<Element>
    private let block: UnsafeMutableRawPointer

    // Layout of `block`: [0] tail, [1] producer's cachedHead, [2] head, [3] consumer's cachedTail,
    // each 128 bytes apart (two cache lines: adjacent-line prefetch must not couple them).
    private static var stride: Int { 128 }
    private var tail: UnsafeMutablePointer<Atomic<Int>> { block.assumingMemoryBound(to: Atomic<Int>.self) }
    private var cachedHead: UnsafeMutablePointer<Int> { (block + Self.stride).assumingMemoryBound(to: Int.self) }
    private var head: UnsafeMutablePointer<Atomic<Int>> { (block + 2 * Self.stride).assumingMemoryBound(to: Atomic<Int>.self) }
    private var cachedTail: UnsafeMutablePointer<Int> { (block + 3 * Self.stride).assumingMemoryBound(to: Int.self) }

    /// `capacity` is rounded up to a power of two (at least 2).
    public init(capacity: Int) {
        var size = 2
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        slots = .allocate(capacity: size)
        block = .allocate(byteCount: 4 * Self.stride, alignment: Self.stride)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: 4 * Self.stride)
        (block).assumingMemoryBound(to: Atomic<Int>.self).initialize(to: Atomic(0))
        (block + 2 * Self.stride).assumingMemoryBound(to: Atomic<Int>.self).initialize(to: Atomic(0))
    }

    deinit {
        // Elements still in the ring are deinitialised with it.
        let h = head.pointee.load(ordering: .relaxed)
        let t = tail.pointee.load(ordering: .relaxed)
        for i in h..<t { (slots + (i & mask)).deinitialize(count: 1) }
        slots.deallocate()
        block.deallocate()
    }

    // MARK: - Producer side

    /// Adds `element` unless the ring is full. Producer thread only.
    @inline(__always)
    public func tryPush(_ element: Element) -> Bool {
        let t = tail.pointee.load(ordering: .relaxed)
        if t - cachedHead.pointee == capacity {
            cachedHead.pointee = head.pointee.load(ordering: .acquiring)
            if t - cachedHead.pointee == capacity { return false }
        }
        (slots + (t & mask)).initialize(to: element)
        tail.pointee.store(t + 1, ordering: .releasing)
        return true
    }

    /// Adds as many of `elements` as fit and publishes them with one release store (one cache
    /// line transfer for the whole batch). Returns how many were added. Producer thread only.
    @inline(__always)
    public func tryPush(contentsOf elements: UnsafeBufferPointer<Element>) -> Int {
        let t = tail.pointee.load(ordering: .relaxed)
        var free = capacity - (t - cachedHead.pointee)
        if free < elements.count {
            cachedHead.pointee = head.pointee.load(ordering: .acquiring)
            free = capacity - (t - cachedHead.pointee)
        }
        let n = min(free, elements.count)
        for i in 0..<n { (slots + ((t + i) & mask)).initialize(to: elements[i]) }
        if n > 0 { tail.pointee.store(t + n, ordering: .releasing) }
        return n
    }

    /// Free slots as the producer sees them (may be stale low, never high).
    public var freeCapacityHint: Int { capacity - (tail.pointee.load(ordering: .relaxed) - head.pointee.load(ordering: .relaxed)) }

    // MARK: - Consumer side

    /// Takes one element if any. Consumer thread only.
    @inline(__always)
    public func tryPop() -> Element? {
        let h = head.pointee.load(ordering: .relaxed)
        if h == cachedTail.pointee {
            cachedTail.pointee = tail.pointee.load(ordering: .acquiring)
            if h == cachedTail.pointee { return nil }
        }
        let element = (slots + (h & mask)).move()
        head.pointee.store(h + 1, ordering: .releasing)
        return element
    }

    /// Takes everything available now (at most `limit`), in order, calling `body` with each element and
    /// whether it is the last of this batch (the moment to flush, in Disruptor terms). The slots are
    /// released to the producer once, after the batch. Returns how many were taken. Consumer only.
    @discardableResult
    public func drain(limit: Int = .max, _ body: (consuming Element, _ endOfBatch: Bool) -> Void) -> Int {
        let h = head.pointee.load(ordering: .relaxed)
        var available = cachedTail.pointee - h
        if available == 0 {
            cachedTail.pointee = tail.pointee.load(ordering: .acquiring)
            available = cachedTail.pointee - h
            if available == 0 { return 0 }
        }
        let n = min(available, limit)
        for i in 0..<n {
            body((slots + ((h + i) & mask)).move(), i == n - 1)
        }
        head.pointee.store(h + n, ordering: .releasing)
        return n
    }

    /// True when the consumer would find nothing (any thread; a hint when not the consumer).
    public var isEmpty: Bool { head.pointee.load(ordering: .acquiring) == tail.pointee.load(ordering: .acquiring) }

    /// Elements in the ring right now (a gauge; exact only when both sides are quiet).
    public var count: Int { tail.pointee.load(ordering: .acquiring) - head.pointee.load(ordering: .acquiring) }
}
