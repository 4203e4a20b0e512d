import Contracts
import Reactor
import Redis
import Synchronization

/// Multi-instance fan-out: every gateway PUBLISHes its opportunities to `dfp:opportunities:ws`
/// tagged with its instance name (the sink does), and SUBSCRIBEs to the channel here to hand the
/// other instances' opportunities to its own WebSocket clients. Symbols are partitioned between
/// instances, so each opportunity has one origin and reaches every client once: from its own
/// instance directly, from the others through Redis. Remote events keep their origin's `seq` and
/// carry `"instance"`; `since_seq` resumes are per instance (pub/sub delivers at most once: a
/// peer's events sent while this link is down are not replayed; its REST/journal has them).
final class RedisPeers: @unchecked Sendable {
    let client: RedisClient
    let instance: String
    private let loop: EventLoop
    private let broadcasters: [Broadcaster]
    let received = Atomic<Int>(0)

    init(host: String, port: Int, loop: EventLoop, instance: String, broadcasters: [Broadcaster]) {
        client = RedisClient(host: host, port: port, loop: loop)
        self.loop = loop
        self.instance = instance
        self.broadcasters = broadcasters
        client.onConnected = { [weak self] in self?.client.send(["SUBSCRIBE", "dfp:opportunities:ws"]) }
        client.onPush = { [weak self] value in self?.message(value) }
    }

    func start() { loop.execute { self.client.start() } }

    private func message(_ value: RESPValue) {
        guard let parts = value.array, parts.count == 3, parts[0].string == "message",
              case .bulk(let payload?) = parts[2] else { return }
        guard let decoded = EventDecoder.decode(payload), let origin = decoded.instance, origin != instance,
              case .opportunity = decoded.event else { return }
        let event = decoded.event
        received.wrappingAdd(1, ordering: .relaxed)
        for broadcaster in broadcasters {
            broadcaster.loop.execute { broadcaster.deliverRemote(event, json: payload) }
        }
    }
}
