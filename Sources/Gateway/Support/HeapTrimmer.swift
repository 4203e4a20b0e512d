import CLinux
import Dispatch
import Reactor

/// Gives the heap back to the kernel once malloc holds a lot of it free (glibc keeps freed
/// per-connection memory — TLS state, buffers, a client's megabyte message — in its arenas, so
/// without this RSS stays at its peak after a flood, a slowloris wave or a fan-out burst;
/// measured: 37 MB → 65 MB after Tests/e2e/hostile_test.py, back to start with a trim). Every
/// 5 s a background queue (never a loop: both calls walk the arenas under their locks) reads
/// how much malloc holds free and runs `malloc_trim` when it is over 16 MiB.
final class HeapTrimmer: @unchecked Sendable {
    private let loop: EventLoop
    private let intervalMs: Int64 = 5_000
    private let freeBytesToTrim: Int64 = 16 << 20

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Call once the loops run; reschedules itself on `loop` until the loop stops.
    func start() {
        loop.execute { [self] in tick() }
    }

    private func tick() {
        let threshold = freeBytesToTrim
        DispatchQueue.global(qos: .utility).async {
            if dfl_heap_free_bytes() > threshold { _ = dfl_heap_trim() }
        }
        loop.schedule(afterMs: intervalMs) { [self] in tick() }
    }
}
