import Foundation
import Operator
import XCTest

/// A blocking test client speaking raw bytes over TLS (or plain TCP), so tests control exactly
/// what goes on the wire: split requests, pipelining, oversized heads, slow senders. The
/// connection is the operator commands' `ClientStream` (certificate not checked: the test
/// server's is self-signed); this adds reading whole HTTP responses.
public final class TestClient {
    private let stream: ClientStream
    private var buffer: [UInt8] = []

    public init(port: Int, tls: Bool = true, timeoutSeconds: Int = 10) throws {
        do {
            stream = try ClientStream(try Endpoint(url: "\(tls ? "https" : "http")://127.0.0.1:\(port)"),
                                      trust: TrustOptions(insecure: true), timeoutMs: timeoutSeconds * 1000)
        } catch {
            throw TestClientError.connect(error.description)
        }
    }

    public func close() { stream.close() }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        do { try stream.write(bytes) } catch { throw TestClientError.closed }
    }

    /// Reads more bytes; returns false at EOF / error / timeout.
    private func fill() -> Bool {
        guard let chunk = (try? stream.read()) ?? nil else { return false }
        buffer.append(contentsOf: chunk)
        return true
    }

    /// Reads one response (Content-Length bodies; no body for HEAD/304/204/1xx when told).
    public func readResponse(bodyless: Bool = false) throws -> TestResponse {
        while true {
            if let end = findHeadEnd() {
                let headText = String(decoding: buffer[0..<end], as: UTF8.self)
                var lines = headText.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst()
                let parts = statusLine.split(separator: " ", maxSplits: 2)
                guard parts.count >= 2, let status = Int(parts[1]) else { throw TestClientError.malformed(statusLine) }
                var headers: [(String, String)] = []
                for line in lines where !line.isEmpty {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers.append((String(line[..<colon]),
                                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                }
                let length = bodyless || status == 304 || status == 204 || status < 200
                    ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
                while buffer.count < end + 4 + length {
                    guard fill() else { throw TestClientError.closed }
                }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                return TestResponse(status: status, headers: headers, body: body)
            }
            guard fill() else { throw TestClientError.closed }
        }
    }

    /// Whatever bytes are buffered or arrive next (raw protocols after an upgrade).
    public func readRaw() throws -> [UInt8] {
        if buffer.isEmpty { guard fill() else { throw TestClientError.closed } }
        defer { buffer.removeAll() }
        return buffer
    }

    /// True when the server closed the connection (EOF) within the receive timeout.
    public func waitForClose() -> Bool {
        while fill() {}
        return true
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

public struct TestResponse {
    public let status: Int
    public let headers: [(String, String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    public var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
}

public enum TestClientError: Error {
    case connect(String)
    case closed
    case malformed(String)
}
