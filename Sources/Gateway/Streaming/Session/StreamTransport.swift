import Reactor

/// What a `WebSocketSession` needs of its connection: bytes out, backpressure, a deadline,
/// closing, and a way back onto its loop. `Connection` is the real one; a unit test drives a
/// session through a recording transport without opening a socket (as NIO's embedded channel).
/// Every call happens on the session's loop thread.
protocol StreamTransport: AnyObject {
    /// The loop's clock (milliseconds, monotonic).
    var now: Int64 { get }
    var isOpen: Bool { get }
    /// Bytes written and not yet taken by the kernel.
    var queuedBytes: Int { get }
    func send(_ bytes: [UInt8])
    func setWriteQueueLimit(_ bytes: Int)
    /// One deadline per connection; setting it again replaces it.
    func setDeadline(afterMs: Int64)
    func pauseReading()
    func resumeReading()
    /// Closes once everything queued is written.
    func closeAfterFlush()
    func close()
    /// Runs `task` on this transport's loop thread later (work finished on another thread).
    func execute(_ task: @escaping @Sendable () -> Void)
}

extension Connection: StreamTransport {
    func send(_ bytes: [UInt8]) { _ = write(bytes) }
    func close() { close(reason: .requested) }
    func execute(_ task: @escaping @Sendable () -> Void) { eventLoop.execute(task) }
}
