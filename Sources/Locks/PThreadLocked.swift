import Glibc

/// A value behind a pthread mutex, with the two calls of `Synchronization.Mutex` the project uses;
/// every lock in Sources is one of these.
///
/// Why not `Mutex`: on Linux its lock is a futex in the uninstrumented stdlib, so ThreadSanitizer
/// sees no order between two holders and reports every access under it as a race
/// (Tests/sanitizers.sh thread). pthread's calls are intercepted, so TSan checks the real thing.
/// The cost is the same uncontended (one atomic each way); the mutex lives in its own allocation
/// because a pthread_mutex_t must not move.
public final class PThreadLocked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// nil, at once, when another thread holds the lock.
    public func withLockIfAvailable<R>(_ body: (inout Value) throws -> R) rethrows -> R? {
        guard pthread_mutex_trylock(mutex) == 0 else { return nil }
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
