"""Fail-over across gateways with a real client: two `dongfeng` processes, each with its own
simulator, share one redis-server. A WebSocket client (Python `websockets`) subscribes to
opportunities on gateway A, reads both origins for a while, stops reading (what A sends meanwhile
is lost with the connection), and A is killed with SIGKILL. The client reconnects to gateway B
with the cursor it kept from the frames (`instance` + `seq`) and reads on. Checks:
- every frame names its origin and an origin's seqs only grow for the client;
- after the move, every opportunity of A that reached the `dfp:opportunities` stream and every
  opportunity of B since the client connected arrived, none twice;
- a producer XADDs ticks to both tick partitions all along (`redis.partition_count` = 2, A
  configured for 0, B for 1): once A's lease lapses B holds both and takes A's pending ticks;
  when A is back it takes partition 0 again; in the end no tick is left pending or unread;
- A restarts on its data directory: its sink sends what the kill left unsent (from the journal,
  after the seq recorded in Redis), B delivers it; once both feeds are paused, what the client
  received is exactly every opportunity of A and of B made since it connected (REST of each).
Usage: failover_test.py DONGFENG_BINARY. Prints one line per check and a summary line."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_e2e import CheckFailed, Client, require  # noqa: E402
import ws_e2e  # noqa: E402


class Redis:
    """A redis-server this script starts on a free port (no persistence) and stops by PID."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if self.call("PING") == "PONG":
                    return
            except OSError:
                time.sleep(0.05)
        raise CheckFailed(f"redis-server did not answer on {self.port}")

    def call(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"".join([f"*{len(args)}\r\n".encode()] + [f"${len(str(a).encode())}\r\n{a}\r\n".encode() for a in args]))
            reader = s.makefile("rb")
            return self._read(reader)

    def _read(self, r):
        line = r.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = r.read(n + 2)[:n]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(r) for _ in range(n)]
        raise CheckFailed(f"unexpected RESP reply {line!r}")

    def streamed(self, origin):
        """The seqs of `origin`'s entries in dfp:opportunities."""
        out = set()
        for _, fields in self.call("XRANGE", "dfp:opportunities", "-", "+") or []:
            entry = dict(zip(fields[::2], fields[1::2]))
            if entry.get("instance") == origin:
                out.add(int(entry["seq"]))
        return out

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Producer(threading.Thread):
    """XADDs a tick to each partition every 10 ms (symbols the simulators do not trade)."""

    def __init__(self, redis):
        super().__init__(daemon=True)
        self.redis, self.running, self.added = redis, True, 0

    def run(self):
        with socket.create_connection(("127.0.0.1", self.redis.port), timeout=10) as s:
            reader = s.makefile("rb")
            price = [10.0, 20.0]
            while self.running:
                for p, symbol in ((0, "601988.SH"), (1, "000333.SZ")):
                    price[p] *= 1.0005 if (self.added // 200) % 2 == 0 else 0.9995
                    tick = json.dumps({"symbol": symbol, "ts": int(time.time() * 1000), "price": round(price[p], 2), "volume": 100})
                    args = ["XADD", f"dfp:clean_ticks:{p}", "*", "data", tick]
                    s.sendall(b"".join([f"*{len(args)}\r\n".encode()] + [f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args]))
                    self.redis._read(reader)
                    self.added += 1
                time.sleep(0.01)


class Gateway(ws_e2e.Server):
    def __init__(self, binary, workdir, name, redis, seed, partition):
        super().__init__(binary, workdir, feed="simulator", extra_env={
            "DFP_REDIS_URL": f"redis://127.0.0.1:{redis.port}", "DFP_REDIS_CONSUMER": name,
            "DFP_REDIS_PARTITION_COUNT": "2", "DFP_REDIS_PARTITIONS": str(partition), "DFP_REDIS_LEASE_MS": "1000",
            "DFP_SIMULATOR_SEED": str(seed), "DFP_SIMULATOR_TICKS_PER_SECOND": "3000", "DFP_PIPELINE_INTERVAL": "100ms",
            # With the default 60 s cool-down every (symbol, direction) of a seed can be closed by
            # an opposite signal within seconds and stay quiet past the script's waits; 1 s keeps
            # each gateway making opportunities all along.
            "DFP_PIPELINE_COOLDOWN_S": "1",
            "DFP_WEBSOCKET_OUTBOUND_CAP_BYTES": str(8 << 20)})
        self.name = name

    def kill9(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


def wait_backfilled(client):
    deadline = time.time() + 15
    while time.time() < deadline:
        peers = client.get("/admin/health").get("redis", {}).get("peers", {})
        if peers.get("state") == "connected" and peers.get("backfilled"):
            return
        time.sleep(0.05)
    raise CheckFailed(f"gateway on {client.port}: the peers link is not up and backfilled")


def held(client):
    return client.get("/admin/health")["redis"]["source"]["partitions"]


def eventually(what, condition, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def opportunity_seqs(client, after):
    out, since = set(), after
    while True:
        page = client.get(f"/api/v1/opportunities?since_seq={since}&limit=1000")
        out.update(item["seq"] for item in page["items"])
        if len(page["items"]) < 1000:
            return out
        since = page["next_since_seq"]


def admin_post(client, path):
    import urllib.request
    request = urllib.request.Request(f"https://127.0.0.1:{client.port}{path}", data=b"", method="POST")
    with client.http.open(request, timeout=10) as r:
        require(r.status == 200, f"POST {path}: {r.status}")


class Reader:
    """One client's view across connections: the cursor per origin and every opportunity received."""

    def __init__(self):
        self.cursor, self.received = {}, []

    def text(self):
        return ",".join(f"{k}:{v}" for k, v in sorted(self.cursor.items()))

    def read(self, ws, seconds, quiet=None):
        """Reads for `seconds`, or until nothing came for `quiet` seconds."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                raw = ws.recv(timeout=min(quiet or 0.5, max(0.01, deadline - time.time())))
            except TimeoutError:
                if quiet:
                    return
                continue
            m = json.loads(raw)
            require(m.get("type") != "error", f"server error: {m}")
            if m.get("type") != "opportunity":
                continue
            origin, seq = m.get("instance"), m.get("seq")
            require(isinstance(origin, str) and isinstance(seq, int), f"a frame without its origin: {str(m)[:200]}")
            require(seq > self.cursor.get(origin, 0), f"{origin}:{seq} after {origin}:{self.cursor.get(origin)}: not increasing")
            self.cursor[origin] = seq
            self.received.append((origin, seq))

    def of(self, origin):
        return {s for o, s in self.received if o == origin}


def main():
    binary = sys.argv[1]
    passed, failed = 0, 0

    def check(name, condition, detail=""):
        nonlocal passed, failed
        if condition:
            passed += 1
            print(f"ok: {name}")
        else:
            failed += 1
            print(f"FAIL: {name} {detail}")

    redis = Redis()
    producer = Producer(redis)
    gateways = []
    try:
        with tempfile.TemporaryDirectory(prefix="dongfeng-failover-") as work:
            dir_a, dir_b = os.path.join(work, "a"), os.path.join(work, "b")
            os.makedirs(dir_a)
            os.makedirs(dir_b)
            a = Gateway(binary, dir_a, "gw-a", redis, 11, 0)
            gateways.append(a)
            b = Gateway(binary, dir_b, "gw-b", redis, 22, 1)
            gateways.append(b)
            ca, cb = Client(a), Client(b)
            wait_backfilled(ca)
            wait_backfilled(cb)
            producer.start()
            check("each gateway holds its partition", eventually("", lambda: held(ca) == [0] and held(cb) == [1]),
                  f"A {held(ca)}, B {held(cb)}")
            reader = Reader()
            ws = ca.ws("/ws/opportunities").__enter__()
            hello = json.loads(ws.recv(timeout=10))
            check("hello names the gateway and a cursor", hello.get("instance") == "gw-a" and "cursor" in hello, str(hello))
            start = {o: int(s) for o, s in (p.rsplit(":", 1) for p in hello["cursor"].split(","))}
            reader.cursor = dict(start)
            reader.read(ws, 5)
            check("both origins reach the client of A", reader.of("gw-a") and reader.of("gw-b"),
                  f"{len(reader.of('gw-a'))} of gw-a, {len(reader.of('gw-b'))} of gw-b")
            # A goes on sending; unread, it is lost with the connection. Its signals come in bursts
            # (the producer's price turns), so wait until A has streamed past what was read.
            deadline = time.time() + 20
            while time.time() < deadline and max(redis.streamed("gw-a"), default=0) <= reader.cursor.get("gw-a", 0):
                time.sleep(0.1)
            time.sleep(0.3)
            a.kill9()
            try:
                ws.close()
            except Exception:
                pass
            print(f"moved with cursor={reader.text()} after {len(reader.received)} opportunities")
            ws = cb.ws(f"/ws/opportunities?cursor={reader.text()}").__enter__()
            hello_b = json.loads(ws.recv(timeout=10))
            check("B greets with its own name", hello_b.get("instance") == "gw-b", str(hello_b))
            check("B takes A's partition once A's lease lapses", eventually("", lambda: held(cb) == [0, 1]), f"B {held(cb)}")
            before = len(reader.of("gw-a"))
            reader.read(ws, 4)
            streamed_a = {s for s in redis.streamed("gw-a") if s > start.get("gw-a", 0)}
            missing = streamed_a - reader.of("gw-a")
            check("every opportunity of A in the stream arrived after the move", not missing,
                  f"{len(missing)} missing, e.g. {sorted(missing)[:5]}")
            check("the move replayed what A sent but the client never read", len(reader.of("gw-a")) > before,
                  f"{before} before the move, {len(reader.of('gw-a'))} after")
            # A comes back on its data: what the kill left unsent reaches the stream, then the client.
            a = Gateway(binary, dir_a, "gw-a", redis, 11, 0)
            gateways.append(a)
            ca = Client(a)
            reader.read(ws, 3)
            check("A takes its partition back", eventually("", lambda: held(ca) == [0] and held(cb) == [1]),
                  f"A {held(ca)}, B {held(cb)}")
            producer.running = False
            producer.join()

            def settled():
                groups = [dict(zip(g[::2], g[1::2])) for p in (0, 1) for g in redis.call("XINFO", "GROUPS", f"dfp:clean_ticks:{p}")]
                return all(g["pending"] == 0 and g["lag"] == 0 for g in groups)
            check("no tick is left pending or unread", eventually("", settled),
                  str([redis.call("XINFO", "GROUPS", f"dfp:clean_ticks:{p}") for p in (0, 1)]))
            print(f"produced {producer.added} ticks; B took over {cb.get('/admin/health')['redis']['source']['claimed']} pending")
            for c in (ca, cb):
                admin_post(c, "/admin/feed/pause")
            time.sleep(1.5)  # the last bars close by the wall clock
            reader.read(ws, 20, quiet=3)
            for name, client in (("gw-a", ca), ("gw-b", cb)):
                made = opportunity_seqs(client, start.get(name, 0))
                got = reader.of(name)
                check(f"every opportunity of {name} since the client connected arrived", made == got,
                      f"made {len(made)}, received {len(got)}; missing {sorted(made - got)[:5]}, extra {sorted(got - made)[:5]}")
            dups = len(reader.received) - len(set(reader.received))
            check("none arrived twice", dups == 0, f"{dups} repeats")
            print(f"received {len(reader.of('gw-a'))} of gw-a and {len(reader.of('gw-b'))} of gw-b")
            ws.close()
    except CheckFailed as e:
        failed += 1
        print(f"FAIL: {e}")
    finally:
        producer.running = False
        for g in gateways:
            g.stop()
        redis.stop()
    print(f"failover_test: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
