/// The last `size` values, ordered by value in a treap over a fixed pool of nodes: the count and
/// sum of the values below any threshold in O(log n) expected, a push in O(log n) expected, no
/// allocation after init. Sums are kept relative to a pivot near the values (reset every `size`
/// pushes, an amortised O(1)), so a window far from zero loses no precision to its level.
///
/// Deterministic: a node's priority is a hash of its arrival number and ties in value go by
/// arrival, so the tree — and every rounding of its sums — is a function of the window's values,
/// their arrival numbers and the pivot alone; rebuilt from those after a restart it is the same.
struct OrderedWindow: Sendable {
    let size: Int
    private var key: [Double]
    private var arrival: [Int]
    private var left: [Int32]
    private var right: [Int32]
    private var count: [Int32]
    private var sum: [Double]
    private var root: Int32 = -1
    /// Values pushed so far (the next one's arrival number).
    private(set) var seen = 0
    private(set) var pivot = 0.0

    init(size: Int) {
        precondition(size >= 1)
        self.size = size
        key = Array(repeating: 0, count: size)
        arrival = Array(repeating: 0, count: size)
        left = Array(repeating: -1, count: size)
        right = Array(repeating: -1, count: size)
        count = Array(repeating: 0, count: size)
        sum = Array(repeating: 0, count: size)
    }

    var isFull: Bool { seen >= size }
    var filled: Int { min(seen, size) }

    /// Every value in the window, relative to the pivot, summed.
    var total: Double { root < 0 ? 0 : sum[Int(root)] }

    /// The window's values in ring order (slot = arrival number mod size), as a ring buffer
    /// would store them.
    var ring: [Double] { Array(key.prefix(filled)) }

    /// The window's values, oldest first.
    var values: [Double] { (max(0, seen - size)..<seen).map { key[$0 % size] } }

    mutating func push(_ x: Double) {
        let node = Int32(seen % size)
        if seen >= size { root = erase(root, node) }
        if seen == 0 { pivot = x }
        key[Int(node)] = x
        arrival[Int(node)] = seen
        left[Int(node)] = -1
        right[Int(node)] = -1
        refresh(node)
        let (l, r) = split(root, node)
        root = merge(merge(l, node), r)
        seen += 1
        // A full window's worth of pushes since the last pivot: the pivot moves to its first
        // value (near the rest), and every sum is made again.
        if seen % size == 0 { repivot(key[seen % size]) }
    }

    /// How many values are below `threshold`, and their sum relative to the pivot.
    func below(_ threshold: Double) -> (count: Int, sum: Double) {
        var n = 0
        var s = 0.0
        var t = root
        while t >= 0 {
            let i = Int(t)
            if key[i] < threshold {
                let l = left[i]
                if l >= 0 { n += Int(count[Int(l)]); s += sum[Int(l)] }
                n += 1
                s += key[i] - pivot
                t = right[i]
            } else {
                t = left[i]
            }
        }
        return (n, s)
    }

    /// The same window with its values pushed again in order (a restart rebuilding it).
    init(size: Int, values: [Double], seen: Int, pivot: Double) {
        self.init(size: size)
        self.seen = max(0, seen - values.count)
        for v in values { push(v) }
        repivot(pivot)
    }

    private mutating func repivot(_ p: Double) {
        pivot = p
        refreshAll(root)
    }

    private mutating func refreshAll(_ t: Int32) {
        guard t >= 0 else { return }
        refreshAll(left[Int(t)])
        refreshAll(right[Int(t)])
        refresh(t)
    }

    @inline(__always)
    private mutating func refresh(_ t: Int32) {
        let i = Int(t)
        let l = left[i], r = right[i]
        count[i] = 1 + (l >= 0 ? count[Int(l)] : 0) + (r >= 0 ? count[Int(r)] : 0)
        sum[i] = ((l >= 0 ? sum[Int(l)] : 0) + (key[i] - pivot)) + (r >= 0 ? sum[Int(r)] : 0)
    }

    /// Whether node a orders before node b: by value, then by arrival.
    @inline(__always)
    private func before(_ a: Int32, _ b: Int32) -> Bool {
        let i = Int(a), j = Int(b)
        return key[i] < key[j] || (key[i] == key[j] && arrival[i] < arrival[j])
    }

    @inline(__always)
    private func priority(_ t: Int32) -> UInt64 {
        // SplitMix64 of the arrival number.
        var z = UInt64(bitPattern: Int64(arrival[Int(t)])) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The nodes of `t` ordered before `pivotNode`, and the rest.
    private mutating func split(_ t: Int32, _ pivotNode: Int32) -> (Int32, Int32) {
        guard t >= 0 else { return (-1, -1) }
        if before(t, pivotNode) {
            let (l, r) = split(right[Int(t)], pivotNode)
            right[Int(t)] = l
            refresh(t)
            return (t, r)
        }
        let (l, r) = split(left[Int(t)], pivotNode)
        left[Int(t)] = r
        refresh(t)
        return (l, t)
    }

    private mutating func merge(_ a: Int32, _ b: Int32) -> Int32 {
        guard a >= 0 else { return b }
        guard b >= 0 else { return a }
        if priority(a) > priority(b) {
            right[Int(a)] = merge(right[Int(a)], b)
            refresh(a)
            return a
        }
        left[Int(b)] = merge(a, left[Int(b)])
        refresh(b)
        return b
    }

    /// `t` without `node` (which it holds).
    private mutating func erase(_ t: Int32, _ node: Int32) -> Int32 {
        guard t >= 0 else { return -1 }
        if t == node { return merge(left[Int(t)], right[Int(t)]) }
        if before(node, t) { left[Int(t)] = erase(left[Int(t)], node) } else { right[Int(t)] = erase(right[Int(t)], node) }
        refresh(t)
        return t
    }
}
