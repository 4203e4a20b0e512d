import Foundation
import Hummingbird
import HummingbirdTLS
import NIOCore
import NIOPosix
import NIOSSL

// Usage: HBPeer PORT CERT KEY OPPORTUNITIES_JSON INDEX_HTML
// Serves GET /api/v1/opportunities (the JSON file's bytes, as Dongfeng answered them) and GET /
// (the page's bytes) over TLS 1.2+ with the same certificate, HTTP/1.1 keep-alive.
let arguments = CommandLine.arguments
guard arguments.count == 6, let port = Int(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: HBPeer PORT CERT KEY OPPORTUNITIES_JSON INDEX_HTML\n".utf8))
    exit(2)
}
let json = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: arguments[4])))
let page = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: arguments[5])))

let router = Router()
router.get("/api/v1/opportunities") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
             body: .init(byteBuffer: json))
}
router.get("/") { _, _ in
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: page))
}
router.get("/health") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
}

var tls = TLSConfiguration.makeServerConfiguration(
    certificateChain: try NIOSSLCertificate.fromPEMFile(arguments[2]).map { .certificate($0) },
    privateKey: .privateKey(try NIOSSLPrivateKey(file: arguments[3], format: .pem)))
tls.minimumTLSVersion = .tlsv12
tls.applicationProtocols = ["http/1.1"]
let app = Application(
    router: router,
    server: try .tls(.http1(), tlsConfiguration: tls),
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hb-peer"),
    // One event loop, as every server in the comparison gets one worker.
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1))
)
print("listening on https://127.0.0.1:\(port)")
try await app.runService()
