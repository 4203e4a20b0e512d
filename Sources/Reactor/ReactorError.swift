import Glibc

/// Failures of the reactor's own system calls and TLS setup, with the errno or OpenSSL text.
public enum ReactorError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(String, Int32)
    case tls(String)

    public var description: String {
        switch self {
        case .system(let call, let errno):
            return "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .tls(let message):
            return "TLS: \(message)"
        }
    }
}
