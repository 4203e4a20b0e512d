/// The last `size` values, in a preallocated ring: O(1) push, no allocation after init.
struct MovingWindow: Sendable {
    var values: [Double]
    var next = 0
    var count = 0
    let size: Int

    init(size: Int) {
        precondition(size >= 1)
        self.size = size
        values = [Double](repeating: 0, count: size)
    }

    var isFull: Bool { count == size }

    /// Adds `x`; returns the value it displaced once the window is full.
    @inline(__always)
    mutating func push(_ x: Double) -> Double? {
        let old = isFull ? values[next] : nil
        values[next] = x
        next = next + 1 == size ? 0 : next + 1
        if count < size { count += 1 }
        return old
    }

    /// The i-th oldest value (0 = oldest).
    @inline(__always)
    subscript(oldest i: Int) -> Double {
        let start = isFull ? next : 0
        let j = start + i
        return values[j >= size ? j - size : j]
    }
}
