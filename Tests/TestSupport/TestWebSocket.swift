import Foundation
import XCTest

/// A minimal WebSocket client over `TestClient` (TLS), enough to drive the server precisely.
public final class TestWebSocket {
    public let client: TestClient
    private var pending: [UInt8] = []
    public let handshake: TestResponse

    public init(port: Int, path: String, extraHeaders: [String] = []) throws {
        client = try TestClient(port: port)
        let extra = extraHeaders.map { $0 + "\r\n" }.joined()
        try client.send("GET \(path) HTTP/1.1\r\nHost: localhost:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n")
        handshake = try client.readResponse(bodyless: true)
    }

    public func sendText(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        let mask: [UInt8] = [1, 2, 3, 4]
        if payload.count < 126 { frame.append(0x80 | UInt8(payload.count)) }
        else { frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        try client.send(frame)
    }

    /// The next server frame: (opcode, payload).
    public func nextFrame() throws -> (UInt8, [UInt8]) {
        while true {
            if pending.count >= 2 {
                var length = Int(pending[1] & 0x7F)
                var header = 2
                if length == 126, pending.count >= 4 { length = Int(pending[2]) << 8 | Int(pending[3]); header = 4 }
                else if length == 127, pending.count >= 10 {
                    length = pending[2..<10].reduce(0) { $0 << 8 | Int($1) }
                    header = 10
                }
                if (length < 126 || header > 2), pending.count >= header + length {
                    let frame = (pending[0] & 0x0F, Array(pending[header..<(header + length)]))
                    pending.removeFirst(header + length)
                    return frame
                }
            }
            pending += try client.readRaw()
        }
    }

    /// The close frame's code and reason once `nextJSON` met it.
    public private(set) var closeFrame: (code: Int, reason: String)?

    /// The next JSON text message, skipping pings.
    public func nextJSON() throws -> [String: Any] {
        while true {
            let (opcode, payload) = try nextFrame()
            if opcode == 1 { return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]) }
            if opcode == 8 {
                if payload.count >= 2 {
                    closeFrame = (Int(payload[0]) << 8 | Int(payload[1]), String(decoding: payload.dropFirst(2), as: UTF8.self))
                }
                throw TestClientError.closed
            }
        }
    }
}
