import Contracts
import COpenSSL

/// The opening handshake (RFC 6455 §4.2) and permessage-deflate negotiation (RFC 7692 §7).
public enum WSHandshake {
    /// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + GUID)).
    public static func accept(key: String) -> String {
        let input = Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        input.withUnsafeBufferPointer { i in
            digest.withUnsafeMutableBufferPointer { d in _ = SHA1(i.baseAddress, i.count, d.baseAddress) }
        }
        var encoded = [UInt8](repeating: 0, count: 32)
        let n = encoded.withUnsafeMutableBufferPointer { e in
            digest.withUnsafeBufferPointer { d in EVP_EncodeBlock(e.baseAddress, d.baseAddress, 20) }
        }
        return String(decoding: encoded[0..<Int(n)], as: UTF8.self)
    }

    /// A valid client key is base64 of 16 bytes (24 characters ending in "==").
    public static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard bytes.count == 24, bytes[22] == UInt8(ascii: "="), bytes[23] == UInt8(ascii: "=") else { return false }
        return bytes[0..<22].allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 43 || $0 == 47 }
    }
}

/// The agreed permessage-deflate parameters.
public struct PerMessageDeflate: Equatable, Sendable {
    /// The server resets its compressor after each message (always, so one compressed frame can
    /// be shared by every subscriber).
    public var serverNoContextTakeover = true
    public var clientNoContextTakeover = false
    public var serverMaxWindowBits = 15
    public var clientMaxWindowBits = 15

    /// The response header value.
    public var responseHeader: String {
        var parts = ["permessage-deflate"]
        if serverNoContextTakeover { parts.append("server_no_context_takeover") }
        if clientNoContextTakeover { parts.append("client_no_context_takeover") }
        if serverMaxWindowBits != 15 { parts.append("server_max_window_bits=\(serverMaxWindowBits)") }
        if clientMaxWindowBits != 15 { parts.append("client_max_window_bits=\(clientMaxWindowBits)") }
        return parts.joined(separator: "; ")
    }

    /// Picks the first acceptable permessage-deflate offer of a Sec-WebSocket-Extensions header;
    /// nil when there is none (the connection then runs uncompressed). Offers with unknown or
    /// repeated parameters, bad window sizes, or `server_max_window_bits=8` (zlib cannot honour
    /// it) are declined.
    public static func negotiate(_ header: String?) -> PerMessageDeflate? {
        guard let header else { return nil }
        offers: for offer in header.split(separator: ",") {
            let parts = offer.split(separator: ";").map { $0.trimmingSpaces() }
            guard parts.first == "permessage-deflate" else { continue }
            var result = PerMessageDeflate()
            var seen: Set<String> = []
            for part in parts.dropFirst() {
                let kv = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
                let name = kv[0]
                var value = kv.count > 1 ? kv[1] : nil
                if let v = value, v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { value = String(v.dropFirst().dropLast()) }
                guard seen.insert(name).inserted else { continue offers }
                switch name {
                case "server_no_context_takeover":
                    guard value == nil else { continue offers }
                case "client_no_context_takeover":
                    guard value == nil else { continue offers }
                    result.clientNoContextTakeover = true
                case "server_max_window_bits":
                    guard let v = value.flatMap(Int.init), (9...15).contains(v), value?.first != "0" else { continue offers }
                    result.serverMaxWindowBits = v
                case "client_max_window_bits":
                    if let value {
                        guard let v = Int(value), (8...15).contains(v), value.first != "0" else { continue offers }
                        result.clientMaxWindowBits = v
                    }
                default:
                    continue offers
                }
            }
            return result
        }
        return nil
    }
}
