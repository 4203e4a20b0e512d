"""End to end with a third-party WebSocket client: the Python `websockets` library over TLS with
permessage-deflate, against the real `dongfeng` binary (feed none, ticks posted by this script).
Usage: ws_e2e.py DONGFENG_BINARY. Starts its own server (temporary cert and data folders, port 0),
prints one line per check and a summary line, exits 0 only when every check passed.

Ticks: one tick per 1 s bar, market time from 2024-11-25 (in the past, so a symbol's last bar also
closes by the wall clock: the same bar either way, hence deterministic), price = two sines (40- and
9-bar periods, +-1 % and +-0.4 %) with a volume spike every 53 bars. After 20 bars momentum_breakout
fires on every swing, then vwap_deviation, bollinger, rsi_reversal, macd_cross and volume_spike.
Expected events always come from the server's REST API for the same seq window."""
import base64
import json
import math
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from websockets.sync.client import connect

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
T0 = 1732500000000          # market time of bar 0 (ms)
SEQUENCED = {"opportunity", "signal", "risk_alert"}
REST_KINDS = [("opportunities", "opportunity"), ("signals", "signal"), ("alerts", "risk_alert")]
OPPORTUNITY_FIELDS = {"seq", "id", "symbol", "direction", "status", "confidence", "price", "strategies",
                      "signal_count", "created_ts", "updated_ts", "expires_ts", "risk", "untradable"}
# Check d: 24 symbols x 500 bars give ~8200 sequenced events, ~2.4 MB as uncompressed frames: several
# times what the slow client can absorb (the cap plus ~50-150 KiB in kernel buffers), and under the
# store's 10 000 events per kind, so REST still has every event for the comparisons.
SLOW_SYMBOLS, SLOW_BARS = 24, 500
OUTBOUND_CAP = 256 * 1024   # websocket.outbound_cap_bytes for this server (default 1 MiB)


class CheckFailed(Exception):
    """A check's expectation not met (any other exception fails the check too)."""


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def ticks(symbol, first_bar, count, phase=0.0):
    """One tick per bar; deterministic (no randomness)."""
    out = []
    for i in range(first_bar, first_bar + count):
        wave = 0.01 * math.sin(2 * math.pi * i / 40 + phase) + 0.004 * math.sin(2 * math.pi * i / 9)
        price = round(100 * (1 + wave), 2)
        volume = 1000 + 100 * (i * 7 % 5) + (15000 if i % 53 == 52 else 0)
        out.append({"symbol": symbol, "ts": T0 + i * 1000 + 100, "price": price, "volume": volume,
                    "bid": round(price - 0.01, 2), "ask": round(price + 0.01, 2)})
    return out


def interleave(*series):
    return sorted((t for s in series for t in s), key=lambda t: (t["ts"], t["symbol"]))


class Server:
    """The dongfeng binary on a free port, with its own temporary cert and data folders."""

    def __init__(self, binary, workdir, feed="none", extra_env=None):
        self.log, self.port, self.process = [], None, None
        binary = os.path.abspath(binary)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DFP_")}
        env.update(DFP_TLS_CERT_DIR=os.path.join(workdir, "certs"), DFP_STATIC_ROOT=os.path.join(ROOT, "Public"),
                   DFP_PIPELINE_STRATEGIES_FILE=os.path.join(ROOT, "Config", "strategies.json"),
                   DFP_WEBSOCKET_OUTBOUND_CAP_BYTES=str(OUTBOUND_CAP),
                   # The scripts' ticks are at arbitrary times: UTC clock buckets, not venue sessions.
                   DFP_MARKETS_ENABLED="false")
        env.update(extra_env or {})  # callers may override any of the above
        self.cert = os.path.join(workdir, "certs", "dev-cert.pem")
        args = [binary, "serve", "--port", "0", "--feed", feed, "--log-level", "info",
                "--data-dir", os.path.join(workdir, "data")]
        # cwd = the empty temporary folder: no Config/dongfeng.json there, so built-in defaults.
        self.process = subprocess.Popen(args, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        listening = threading.Event()

        def pump():
            for raw in self.process.stdout:
                line = raw.decode(errors="replace").rstrip()
                self.log.append(line)
                m = re.search(r"listening on https://[^\s]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    listening.set()
            listening.set()
        threading.Thread(target=pump, daemon=True).start()
        if not listening.wait(30) or self.port is None:
            self.stop()
            raise RuntimeError("server did not log 'listening on https://HOST:PORT':\n" + "\n".join(self.log))

    def stop(self):
        """SIGTERM to the server this script started (by its PID), SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Client:
    """REST and WebSocket access to one server, verifying its generated certificate."""

    def __init__(self, server):
        self.server, self.port, self.posted = server, server.port, 0
        self.ctx = ssl.create_default_context(cafile=server.cert)
        self.http = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                urllib.request.HTTPSHandler(context=self.ctx))

    def get(self, path):
        with self.http.open(f"https://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return json.loads(r.read())

    def post_ticks(self, batch):
        body = json.dumps(batch).encode()
        for _ in range(100):
            req = urllib.request.Request(f"https://127.0.0.1:{self.port}/api/v1/ticks", data=body,
                                         headers={"Content-Type": "application/json"})
            try:
                with self.http.open(req, timeout=10) as r:
                    reply = json.loads(r.read())
                require(r.status == 202 and reply["accepted"] == len(batch) and not reply["rejected"],
                        f"POST /api/v1/ticks: {r.status} {reply}")
                self.posted += len(batch)
                return
            except urllib.error.HTTPError as e:
                if e.code != 503:
                    raise CheckFailed(f"POST /api/v1/ticks: {e.code} {e.read()[:300]!r}")
                time.sleep(0.1)  # pipeline busy: retry
        raise CheckFailed("POST /api/v1/ticks: still 503 after 100 tries")

    def settle(self, timeout=30):
        """Waits until the pipeline has every posted tick and closed every bar (one tick per bar),
        and last_seq is steady; returns last_seq."""
        deadline, previous = time.time() + timeout, None
        while time.time() < deadline:
            p = self.get("/admin/health")["pipeline"]
            if p["ticks"] == self.posted and p["bars"] == self.posted:
                if p["last_seq"] == previous:
                    return previous
                previous = p["last_seq"]
            time.sleep(0.15)
        raise CheckFailed(f"pipeline did not settle: {p} (posted {self.posted} ticks)")

    def events(self, after, upto, kinds=REST_KINDS):
        """Sequenced events in (after, upto] from REST, in seq order, as WebSocket envelopes (without
        a signal's `outcome`: REST's live scoring, filled in as bars close, not part of the event)."""
        out = []
        for path, kind in kinds:
            since = after
            while True:
                page = self.get(f"/api/v1/{path}?since_seq={since}&limit=1000")
                out += [{"type": kind, "seq": it["seq"], "payload": event_fields(it)} for it in page["items"] if it["seq"] <= upto]
                if len(page["items"]) < 1000:
                    break
                since = page["next_since_seq"]
        return sorted(out, key=lambda e: e["seq"])

    def ws(self, path):
        # max_queue=None: the library keeps reading into memory however slowly the checks consume.
        return connect(f"wss://127.0.0.1:{self.port}{path}", ssl=self.ctx, proxy=None, max_queue=None,
                       open_timeout=10)


def event_fields(item):
    """A REST list item as the event it is: a signal's `outcome` (live scoring) dropped."""
    return {k: v for k, v in item.items() if k != "outcome"}


def receive(ws, timeout=10):
    try:
        return json.loads(ws.recv(timeout=timeout))
    except TimeoutError:
        raise CheckFailed(f"no message within {timeout} s")


def hello(ws):
    m = receive(ws)
    require(m.get("type") == "hello" and isinstance(m.get("seq"), int), f"first message is not a hello: {m}")
    return m["seq"]


def collect(ws, upto, timeout=20, quiet=0.3, window_end=None):
    """Sequenced events until one with seq >= upto, then `quiet` seconds more for any repeat or
    extra event with seq <= window_end (default upto)."""
    got, deadline = [], time.time() + timeout
    while not got or got[-1]["seq"] < upto:
        left = deadline - time.time()
        try:
            m = json.loads(ws.recv(timeout=max(left, 0.01)))
        except TimeoutError:
            last = got[-1]["seq"] if got else None
            raise CheckFailed(f"timed out waiting for seq {upto}: got {len(got)} events, last seq {last}")
        if m.get("type") in SEQUENCED:
            got.append(m)
    try:
        while True:
            m = json.loads(ws.recv(timeout=quiet))
            if m.get("type") in SEQUENCED and m["seq"] <= (window_end or upto):
                got.append(m)
    except TimeoutError:
        pass
    return got


def same_events(got, want, what):
    """Exactly the same events: same seqs, in order, no gap, no duplicate, same payloads."""
    gs, ws_ = [m["seq"] for m in got], [e["seq"] for e in want]
    if gs != ws_:
        dups = sorted({s for s in gs if gs.count(s) > 1})
        raise CheckFailed(f"{what}: {len(gs)} events, expected {len(ws_)}; missing {sorted(set(ws_) - set(gs))[:8]}, "
                          f"unexpected {sorted(set(gs) - set(ws_))[:8]}, duplicated {dups[:8]}, "
                          f"in order {gs == sorted(set(gs))}")
    for m, e in zip(got, want):
        require(m == e, f"{what}: seq {e['seq']} differs from REST:\n  ws   {m}\n  rest {e}")


class RawWebSocket:
    """A TLS WebSocket client written by hand with a tiny receive buffer, so that when it stops
    reading the server's queue for it really grows (no client library buffering for it)."""

    def __init__(self, client, path, rcvbuf=4096, mss=1024):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connect: a small fixed receive window, and a small MSS announced to the server, whose
        # send buffer autotuning grows with the MSS (64 KiB on loopback: megabytes buffered otherwise).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", client.port))
        self.sock = client.ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        self.buf, self.received = bytearray(), 0
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = bytes(self.buf[:end]), self.buf[end:]
        require(head.startswith(b"HTTP/1.1 101"), f"raw upgrade refused: {head[:200]!r}")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.received += len(chunk)
        self.buf += chunk

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = bytes(self.buf[:n]), self.buf[n:]
        return out

    def frame(self):
        """(opcode, payload) of the next frame (the server sends unmasked, unfragmented frames)."""
        b0, b1 = self._take(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8))[0]
        return b0 & 0x0F, self._take(n)


# ---------------------------------------------------------------------------------------------- checks

def check_opportunity_stream(c, bars):
    """a. Ticks over HTTPS make strategies fire; the opportunity arrives on /ws/opportunities."""
    with c.ws("/ws/opportunities") as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        names = [e.name for e in ws.protocol.extensions]
        require("permessage-deflate" in names and "permessage-deflate" in ext,
                f"permessage-deflate not negotiated (extensions {names}, header {ext!r})")
        base = hello(ws)
        c.post_ticks(ticks("E2E.A", bars, 40))
        last = c.settle()
        want = c.events(base, last, REST_KINDS[:1])
        signals = c.events(base, last, REST_KINDS[1:2])
        require(signals and want, f"no strategy fired: {len(signals)} signals, {len(want)} opportunities")
        got = collect(ws, want[-1]["seq"])
    for m in got:
        require(set(m) == {"type", "seq", "payload"} and m["type"] == "opportunity", f"not the seed's shape: {m}")
        p = m["payload"]
        require(set(p) == OPPORTUNITY_FIELDS and p["seq"] == m["seq"], f"opportunity fields {sorted(p)}")
        require(p["direction"] in ("long", "short") and p["status"] in ("new", "updated", "expired", "blocked")
                and 0 <= p["confidence"] <= 1 and set(p["risk"]) == {"status", "alerts"}, f"bad opportunity {p}")
    same_events(got, want, "/ws/opportunities")
    return f"{len(signals)} signals -> {len(got)} opportunities (first {got[0]['payload']['id']}), deflate: {ext}"


def check_filters(c, bars):
    """b. symbols + min_confidence on a /ws subscription; the subscribed ack."""
    with c.ws("/ws") as ws:
        base = hello(ws)
        sub = {"channels": ["opportunities"], "symbols": ["E2E.B"], "min_confidence": 0.8}
        ws.send(json.dumps({"op": "subscribe", **sub}))
        ack = receive(ws)
        require(ack == {"type": "subscribed", **sub}, f"subscribed ack: {ack}")
        c.post_ticks(interleave(ticks("E2E.B", bars, 120), ticks("E2E.C", bars, 120, phase=1.0)))
        last = c.settle()
        every = c.events(base, last, REST_KINDS[:1])
        want = [e for e in every if e["payload"]["symbol"] == "E2E.B" and e["payload"]["confidence"] >= 0.8]
        other = [e for e in every if e["payload"]["symbol"] != "E2E.B"]
        weak = [e for e in every if e["payload"]["symbol"] == "E2E.B" and e["payload"]["confidence"] < 0.8]
        require(want and other and weak, f"series does not test the filter: {len(want)} wanted, "
                                         f"{len(other)} other symbol, {len(weak)} below 0.8")
        got = collect(ws, want[-1]["seq"], quiet=0.5, window_end=last)
    same_events(got, want, "filtered /ws")
    return f"{len(got)} of {len(every)} opportunities ({len(other)} other symbol, {len(weak)} below 0.8 filtered out)"


def check_resume(c, bars):
    """c. Disconnect, miss events, reconnect with since_seq (query and subscribe message): exactly the
    missed events, in order, then live with no gap."""
    channels = "opportunities,signals,risk_alerts"
    with c.ws(f"/ws?channels={channels}") as ws:
        base = hello(ws)
        c.post_ticks(ticks("E2E.D", bars, 60))
        last = c.settle()
        seen = collect(ws, last)
        require(seen, "no events before the disconnect")
        same_events(seen, c.events(base, last), "before disconnect")
    since = seen[-1]["seq"]
    c.post_ticks(ticks("E2E.D", bars + 60, 80))       # missed while disconnected
    missed_upto = c.settle()
    missed = c.events(since, missed_upto)
    require(len(missed) >= 5 and {e["type"] for e in missed} >= {"signal", "opportunity"},
            f"too few missed events to test resume: {[(e['type'], e['seq']) for e in missed]}")
    with c.ws(f"/ws?channels={channels}&since_seq={since}") as ws:
        hello(ws)
        same_events(collect(ws, missed_upto), missed, "resume by query since_seq")
    with c.ws("/ws") as ws:
        hello(ws)
        ws.send(json.dumps({"op": "subscribe", "channels": channels.split(","), "since_seq": since}))
        require(receive(ws).get("type") == "subscribed", "no subscribed ack")
        replayed = collect(ws, missed_upto)
        c.post_ticks(ticks("E2E.D", bars + 140, 60))   # live after the replay
        live_upto = c.settle()
        replayed += collect(ws, live_upto) if live_upto > missed_upto else []
        same_events(replayed, c.events(since, live_upto), "resume by subscribe since_seq, then live")
    return f"missed {len(missed)} events after seq {since}; both resumes exact; then live to seq {live_upto}"


def check_slow_client(c, bars):
    """d. A client that stops reading is closed with 1013 (reason names since_seq); another client gets
    every event; the slow one resumes from the since_seq it was given."""
    channels = "opportunities,signals,risk_alerts"
    slow = RawWebSocket(c, f"/ws?channels={channels}")
    op, payload = slow.frame()
    require(op == 1 and json.loads(payload)["type"] == "hello", f"raw client: no hello ({op}, {payload[:100]!r})")
    base = json.loads(payload)["seq"]
    with c.ws("/ws") as healthy:
        hello(healthy)
        healthy.send(json.dumps({"op": "subscribe", "channels": channels.split(","), "since_seq": base}))
        symbols = [f"E2E.S{i:02d}" for i in range(SLOW_SYMBOLS)]
        for start in range(0, SLOW_BARS, 100):   # the slow client reads nothing meanwhile
            c.post_ticks(interleave(*(ticks(s, bars + start, 100, phase=i / 3) for i, s in enumerate(symbols))))
        last = c.settle(timeout=60)
        want = c.events(base, last)
        got = [m for m in collect(healthy, last, timeout=60) if m["seq"] > base]
    same_events(got, want, "healthy client")
    # Now read what the slow client was sent: a gapless prefix of the events, then the close.
    received, close = [], None
    try:
        while close is None:
            op, payload = slow.frame()
            if op == 8:
                close = (struct.unpack("!H", payload[:2])[0], payload[2:].decode()) if len(payload) >= 2 else (None, "")
            elif op == 1:
                m = json.loads(payload)
                if m["type"] in SEQUENCED:
                    received.append(m)
    except (socket.timeout, EOFError) as e:
        raise CheckFailed(f"slow client got no close frame ({type(e).__name__}: {e}); it got {len(received)} "
                          f"of {len(want)} events, last seq {received[-1]['seq'] if received else base}")
    finally:
        slow.sock.close()
    require(close[0] == 1013, f"slow client closed with {close}, expected 1013")
    m = re.search(r"since_seq=(\d+)", close[1])
    require(m, f"1013 reason does not name since_seq: {close[1]!r}")
    resume_at = int(m.group(1))
    same_events(received, want[:len(received)], "slow client before its close")
    last_sent = received[-1]["seq"] if received else base
    require(resume_at == last_sent, f"reason says since_seq={resume_at} but the last event sent was {last_sent}")
    require(len(received) < len(want), "slow client got everything: it was not slow")
    with c.ws(f"/ws?channels={channels}&since_seq={resume_at}") as ws:
        hello(ws)
        same_events(collect(ws, last, timeout=60), [e for e in want if e["seq"] > resume_at], "slow client resumed")
    return (f"{len(want)} events; slow client closed 1013 {close[1]!r} after {len(received)} events "
            f"({slow.received // 1024} KiB), resumed the rest; healthy client got all")


def check_ws_ingest(c, bars):
    """e. {"op":"ticks"} over the WebSocket: an ack with accepted/rejected counts."""
    good = ticks("E2E.E", bars, 3)
    bad = dict(good[0], ts=good[-1]["ts"] + 5000, price=-1)
    with c.ws("/ws") as ws:
        hello(ws)
        ws.send(json.dumps({"op": "ticks", "ticks": [good[0], good[1], bad, good[2]]}))
        ack = receive(ws)
    require(ack.get("type") == "ack" and ack.get("accepted") == 3 and len(ack.get("rejected", [])) == 1
            and ack["rejected"][0].get("index") == 2 and "price" in ack["rejected"][0].get("error", ""),
            f"ack: {ack}")
    c.posted += 3
    c.settle()
    closes = [b["close"] for b in c.get("/api/v1/symbols/E2E.E/bars?limit=10").get("items", [])]
    require(closes == [t["price"] for t in good], f"bars of the ingested ticks: {closes}")
    return f"ack {json.dumps(ack)}; 3 bars built"


CHECKS = [("a opportunity over wss with permessage-deflate", check_opportunity_stream, 40),
          ("b subscribe filters (symbols, min_confidence) and ack", check_filters, 120),
          ("c resume with since_seq: no gap, no duplicate", check_resume, 200),
          ("d slow client closed 1013, others unaffected", check_slow_client, SLOW_BARS),
          ("e WebSocket tick ingest ack", check_ws_ingest, 3)]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ws_e2e.py DONGFENG_BINARY")
    # SIGTERM (a test runner giving up) and a time limit end the run through the finally that stops
    # the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("ws_e2e: terminated"))
    signal.signal(signal.SIGALRM, lambda *_: sys.exit("ws_e2e: time limit (300 s) reached"))
    signal.alarm(300)
    started = time.time()
    results = []
    with tempfile.TemporaryDirectory(prefix="ws-e2e-") as workdir:
        server = None
        try:
            server = Server(sys.argv[1], workdir)
            client = Client(server)
            bar = 0
            for name, check, width in CHECKS:
                t = time.time()
                try:
                    detail = check(client, bar)
                    results.append(True)
                    print(f"PASS {name}: {detail} ({time.time() - t:.1f} s)", flush=True)
                except Exception as e:  # noqa: BLE001 - any failure is reported, then the next check runs
                    results.append(False)
                    why = str(e) if isinstance(e, CheckFailed) else f"{type(e).__name__}: {e}"
                    print(f"FAIL {name}: {why}", flush=True)
                bar += width + 10    # each check in later market time than the previous
        except Exception as e:  # noqa: BLE001
            print(f"FAIL server: {e}", flush=True)
            results.append(False)
        finally:
            if server:
                server.stop()
                if not all(results):
                    print("server log (last 30 lines):\n  " + "\n  ".join(server.log[-30:]))
    passed = sum(results)
    print(f"ws_e2e: {passed} passed, {len(results) - passed} failed in {time.time() - started:.1f} s")
    sys.exit(0 if results and all(results) else 1)


if __name__ == "__main__":
    main()
