import Deflate
import Reactor
import WebSocket

/// Test-only WebSocket echo (config `testing.websocket_echo`), for running the Autobahn
/// conformance cases against the same frame codec, deflate and close handling the streaming
/// sessions use. Echoes each text/binary message with its opcode; answers pings; echoes closes.
final class EchoSession: ConnectionHandler {
    private var reader: WSFrameReader
    private let deflater: RawDeflater?
    private var closing = false

    init(deflate: PerMessageDeflate?, maxMessageBytes: Int) {
        deflater = deflate.flatMap { try? RawDeflater(windowBits: $0.serverMaxWindowBits, noContextTakeover: true) }
        let inflater = deflate.flatMap { try? RawInflater(windowBits: $0.clientMaxWindowBits, noContextTakeover: $0.clientNoContextTakeover) }
        reader = WSFrameReader(maxMessageBytes: maxMessageBytes, inflater: inflater)
    }

    /// Echoes of Autobahn's 16 MiB messages must fit the queue of a client that reads slowly.
    func connectionDidOpen(_ connection: Connection) { connection.setWriteQueueLimit(80 << 20) }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        reader.append(bytes)
        while !closing {
            switch reader.next() {
            case .needMore: return
            case .text(let payload): echo(.text, payload, connection)
            case .binary(let payload): echo(.binary, payload, connection)
            case .ping(let payload): connection.write(WSFrameWriter.frame(.pong, payload))
            case .pong: break
            case .close(let code, _):
                closing = true
                if let code {
                    connection.write(WSFrameWriter.frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)]))
                } else {
                    connection.write(WSFrameWriter.frame(.close, []))
                }
                connection.closeAfterFlush()
            case .failure(let error):
                closing = true
                connection.write(WSFrameWriter.close(error.code, reason: error.reason))
                connection.closeAfterFlush()
            }
        }
    }

    private func echo(_ opcode: WSOpcode, _ payload: [UInt8], _ connection: Connection) {
        if let deflater {
            var body: [UInt8] = []
            if (try? payload.withUnsafeBytes { try deflater.compressMessage($0, into: &body) }) != nil {
                connection.write(WSFrameWriter.frame(opcode, body, compressed: true))
                return
            }
        }
        connection.write(WSFrameWriter.frame(opcode, payload))
    }

    func connectionDidDrainWrites(_ connection: Connection) {}
    func connectionDeadlineExpired(_ connection: Connection) { connection.close() }
    func connectionShouldDrain(_ connection: Connection) { connection.closeAfterFlush() }
    func connectionDidClose(_ connection: Connection, reason: CloseReason) { closing = true }
}
