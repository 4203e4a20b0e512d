import Foundation
import TestSupport
import XCTest

/// The server as real users reach it: curl and openssl s_client against the generated
/// development certificate.
final class ExternalClientTests: XCTestCase {
    func testCurlTLS12AndTLS13WithGeneratedCertificate() throws {
        let server = try TestServer()
        defer { server.stop() }
        for (flags, expected) in [(["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2"), (["--tlsv1.3"], "TLSv1.3")] {
            let result = try requireTool(try runTool("curl", ["-sS", "-v", "--cacert", server.certificatePath] + flags
                + ["https://localhost:\(server.port)/health"]), "curl")
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("\"status\":\"ok\""), result.stdout)
            XCTAssertTrue(result.stderr.contains(expected), "expected \(expected) in: \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("ALPN: server accepted http/1.1"), result.stderr)
        }
        let insecure = try requireTool(try runTool("curl", ["-sSk", "-o", "/dev/null", "-w", "%{http_code}",
                                                            "https://127.0.0.1:\(server.port)/health"]), "curl")
        XCTAssertEqual(insecure.stdout, "200")
    }

    func testCurlCompressedAndConditionalRequests() throws {
        let server = try TestServer()
        defer { server.stop() }
        let compressed = try requireTool(try runTool("curl", ["-sS", "--compressed", "--cacert", server.certificatePath,
                                                              "-D", "-", "https://localhost:\(server.port)/js/app.js"]), "curl")
        XCTAssertTrue(compressed.stdout.lowercased().contains("content-encoding: gzip"), compressed.stdout)
        XCTAssertTrue(compressed.stdout.hasSuffix(TestServer.appJS), "curl could not inflate the gzip body")
        let traversal = try requireTool(try runTool("curl", ["-sS", "--path-as-is", "--cacert", server.certificatePath,
            "-o", "/dev/null", "-w", "%{http_code}", "https://localhost:\(server.port)/../outside.txt"]), "curl")
        XCTAssertTrue(["400", "404"].contains(traversal.stdout), traversal.stdout)
        let tooBig = try requireTool(try runTool("curl", ["-sS", "--cacert", server.certificatePath, "-o", "/dev/null",
            "-w", "%{http_code}", "-X", "POST", "--data-binary", "@-", "https://localhost:\(server.port)/health"],
            stdin: String(repeating: "x", count: 2 << 20)), "curl")
        XCTAssertEqual(tooBig.stdout, "413")
    }

    func testOpenSSLRefusesTLS11AndAcceptsTLS13() throws {
        let server = try TestServer()
        defer { server.stop() }
        // SECLEVEL=0 lets the *client* offer TLS 1.1, so the refusal we see is the server's.
        let old = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_1",
                                                          "-cipher", "DEFAULT@SECLEVEL=0"], stdin: ""), "openssl")
        XCTAssertNotEqual(old.status, 0)
        XCTAssertFalse(old.stderr.contains("no protocols available"), "the client refused on its own: \(old.stderr)")
        XCTAssertTrue(old.stderr.contains("alert") || old.stderr.contains("unsupported protocol")
                      || old.stderr.contains("wrong version"), old.stderr)
        let modern = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_3",
                                                             "-alpn", "http/1.1", "-brief"], stdin: ""), "openssl")
        XCTAssertTrue(modern.stderr.contains("TLSv1.3") || modern.stdout.contains("TLSv1.3"), modern.stderr)
        XCTAssertEqual(server.server.group.counters.tlsHandshakeFailures.load(ordering: .relaxed) >= 1, true)
    }

    func testOnlyForwardSecretAEADSuitesInTLS12() throws {
        let server = try TestServer()
        defer { server.stop() }
        let cbc = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2",
                                                          "-cipher", "AES128-SHA:ECDHE-ECDSA-AES128-SHA"], stdin: ""), "openssl")
        XCTAssertNotEqual(cbc.status, 0, "a CBC suite was accepted")
        let gcm = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2",
                                                          "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-brief"], stdin: ""), "openssl")
        XCTAssertTrue(gcm.stderr.contains("ECDHE-ECDSA-AES128-GCM-SHA256"), gcm.stderr)
    }

    func testTLS10RefusedAndALPNWithoutHTTP11Refused() throws {
        let server = try TestServer()
        defer { server.stop() }
        let tls10 = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1",
                                                            "-cipher", "DEFAULT@SECLEVEL=0"], stdin: ""), "openssl")
        XCTAssertNotEqual(tls10.status, 0)
        XCTAssertFalse(tls10.stderr.contains("no protocols available"), tls10.stderr)
        let h2only = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)",
                                                             "-alpn", "h2"], stdin: ""), "openssl")
        XCTAssertNotEqual(h2only.status, 0, "a client that offers only h2 must be refused")
        XCTAssertTrue(h2only.stderr.contains("no application protocol") || h2only.stderr.contains("alert"), h2only.stderr)
    }

    func testSessionTicketResumption() throws {
        let server = try TestServer()
        defer { server.stop() }
        let session = server.directory.appendingPathComponent("session.pem").path
        for version in ["-tls1_2", "-tls1_3"] {
            // The request makes s_client read, so the TLS 1.3 ticket (sent after the handshake) arrives.
            let request = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            let first = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", version,
                                                               "-sess_out", session, "-ign_eof"], stdin: request), "openssl")
            XCTAssertTrue(first.stdout.contains("New,"), first.stdout)
            let second = try requireTool(try runTool("openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", version,
                                                                "-sess_in", session, "-ign_eof"], stdin: request), "openssl")
            XCTAssertTrue(second.stdout.contains("Reused,"), "\(version) session was not resumed: \(second.stdout)")
            XCTAssertTrue(second.stdout.contains("HTTP/1.1 200 OK"), second.stdout)
        }
    }
}
