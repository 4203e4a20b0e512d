import CLinux
import Glibc

/// A named POSIX thread running `body` (pipeline worker, feeds). `join` waits for it.
public struct WorkerThread: @unchecked Sendable {
    private let handle: pthread_t

    private final class Body {
        let name: String
        let run: () -> Void
        init(_ name: String, _ run: @escaping () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Starts `body` on a new thread named `name` (≤ 15 characters are shown by ps/top).
    public static func spawn(name: String, _ body: @escaping () -> Void) -> WorkerThread {
        let box = Unmanaged.passRetained(Body(name, body)).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { arg in
            let body = Unmanaged<Body>.fromOpaque(arg!).takeRetainedValue()
            _ = dfl_set_thread_name(body.name)
            body.run()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return WorkerThread(handle: t)
    }

    public func join() { pthread_join(handle, nil) }
}
