"""Hostile clients against the real `dongfeng` binary, over TLS, each answered as docs/LIMITS.md says:
- slowloris: SLOW connections (default 1500) trickle one header byte every 2 s; normal clients must
  keep >= 90% of their baseline throughput, and the trickling ones get 408 at the header timeout;
- slow readers: pipelined requests for the page, never read; the server caps what it queues;
- oversized request line, headers, header count and body: 414 / 431 / 431 / 413, then closed;
- request smuggling: Content-Length with Transfer-Encoding, differing duplicate Content-Length,
  obs-fold, bare LF, a signed length, an unknown transfer coding: 400 (501 for the coding), closed;
- a connection flood past server.max_connections (on a second server with a low maximum): the
  excess is closed at once, the server keeps serving, and serves again once the flood ends;
- WebSocket: a permessage-deflate zip bomb (1009), invalid UTF-8 (1007), an unmasked frame (1002),
  a frame claiming 2^63 bytes (1009), a reserved opcode (1002);
- afterwards the server is alive, healthy, and its RSS is back near where it started.
Usage: hostile_test.py DONGFENG_BINARY [SLOW]. Prints one line per check and a summary line."""
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_e2e  # noqa: E402

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def connect(port, timeout=10):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return CTX.wrap_socket(raw, server_hostname="localhost")


def read_all(s, limit=1 << 20, timeout=10):
    """Everything the server sends until it closes (b'' pieces) or the timeout; (bytes, closed)."""
    s.settimeout(timeout)
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except (socket.timeout, TimeoutError):
        return data, False
    except (ssl.SSLError, ConnectionResetError, OSError):
        return data, True
    return data, False


def status_of(response):
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def throughput(port, seconds=3.0, clients=4):
    """Keep-alive GET /health per second over `clients` TLS connections (threads)."""
    counts = [0] * clients
    stop = time.monotonic() + seconds
    request = b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"

    def worker(i):
        s = connect(port)
        buf = b""
        while time.monotonic() < stop:
            s.sendall(request)
            while True:
                head_end = buf.find(b"\r\n\r\n")
                if head_end >= 0:
                    head = buf[:head_end].decode("latin-1").lower()
                    length = int(head.split("content-length:")[1].split("\r\n")[0])
                    if len(buf) >= head_end + 4 + length:
                        buf = buf[head_end + 4 + length:]
                        break
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed a keep-alive connection")
                buf += chunk
            counts[i] += 1
        s.close()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


# --- HTTP ---------------------------------------------------------------------------------------

def slowloris(port, count):
    """Runs in a child process (its own GIL): `count` TLS connections, one header byte each every
    2 s. Prints how many connected and, at the end, how many were answered 408."""
    import selectors
    socks = []
    for _ in range(count):
        try:
            socks.append(connect(port, timeout=20))
        except OSError:
            pass
    print(f"connected {len(socks)}", flush=True)
    payload = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 4096
    sent = [0] * len(socks)
    answered = {}
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    end = time.monotonic() + float(os.environ.get("SLOW_SECONDS", "14"))
    next_byte = 0.0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_byte:
            for i, s in enumerate(socks):
                if i in answered:
                    continue
                try:
                    s.send(payload[sent[i]:sent[i] + 1])
                    sent[i] += 1
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                    pass
                except OSError:
                    answered[i] = b""
            next_byte = now + 2
        for key, _ in sel.select(timeout=0.2):
            i = key.data
            try:
                data = key.fileobj.recv(4096)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                data = b""
            answered[i] = answered.get(i, b"") + data
            sel.unregister(key.fileobj)
    got408 = sum(1 for v in answered.values() if v.startswith(b"HTTP/1.1 408"))
    print(f"answered {len(answered)} 408 {got408}", flush=True)
    for s in socks:
        s.close()


def slow_readers(port, count=40, requests=400):
    """Pipelined page requests never read; returns the sockets (closed by the caller)."""
    socks = []
    burst = b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: identity\r\n\r\n" * requests
    for _ in range(count):
        s = connect(port)
        s.setblocking(False)
        try:
            s.send(burst)
        except (ssl.SSLWantWriteError, BlockingIOError):
            pass
        socks.append(s)
    return socks


def answered_and_closed(port, request, expect):
    s = connect(port)
    try:
        s.sendall(request)
    except OSError:
        pass
    data, closed = read_all(s)
    s.close()
    got = status_of(data)
    return got in expect and closed, f"status {got}, {'closed' if closed else 'left open'}"


def http_limits(port):
    long_uri = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    big_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 17000 + b"\r\n\r\n"
    many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(120)) + b"\r\n"
    body = b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n" + b"[" * 1000
    for name, request, expect in [("request-target over 8 KiB", long_uri, {414}), ("head over 16 KiB", big_head, {431}),
                                  ("120 header fields", many, {431}), ("body over 1 MiB", body, {413})]:
        ok, detail = answered_and_closed(port, request, expect)
        check(f"limit: {name} → {sorted(expect)[0]}", ok, detail)


def smuggling(port):
    cases = [
        ("Content-Length with Transfer-Encoding", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}),
        ("two differing Content-Length", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", {400}),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", {400}),
        ("bare LF", b"GET / HTTP/1.1\nHost: x\n\n", {400}),
        ("signed Content-Length", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd", {400}),
        ("equal duplicate Content-Length", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd", {400}),
        ("Content-Length list", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd", {400}),
        ("chunked not last", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", {400, 501}),
        ("bad chunk size", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n", {400}),
        ("space before colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", {400}),
        ("NUL in a header", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", {400}),
        ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\nX-A: a\r\n\r\n", {400}),
    ]
    for name, request, expect in cases:
        ok, detail = answered_and_closed(port, request, expect)
        check(f"smuggling: {name} → {'/'.join(map(str, sorted(expect)))}", ok, detail)


def responses(data):
    """Splits what a server sent into whole responses: [(status, headers dict, body)]; stops at an
    incomplete one. Every response here carries Content-Length (none is chunked)."""
    out = []
    while data:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            break
        lines = data[:head_end].split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode()
        length = int(headers.get("content-length", "0"))
        end = head_end + 4 + length
        if len(data) < end:
            break
        out.append((status_of(lines[0]), headers, data[head_end + 4:end]))
        data = data[end:]
    return out


def framing_errors(port):
    """Once a request's framing cannot be trusted (an HTTP/2 preface, another version, a malformed
    request line, bad framing or header syntax), the server answers exactly once, with
    `Connection: close`, and closes: the bytes after it are never parsed as a second request.
    Each case is followed by a valid request on the same connection, which must go unanswered."""
    follow = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    cases = [
        ("HTTP/2 prior-knowledge preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {505}),
        ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", {505}),
        ("HTTP/3.0 request line", b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", {505}),
        ("HTTP/0.9 request line", b"GET /\r\n\r\n", {400}),
        ("lower-case version", b"GET / http/1.1\r\nHost: x\r\n\r\n", {400}),
        ("two spaces in the request line", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("space inside the target", b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("control byte in the method", b"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
        ("binary garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", {400}),
        ("Content-Length with Transfer-Encoding", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}),
        ("differing Content-Lengths", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]", {400}),
        ("non-numeric Content-Length", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nContent-Length: 2x\r\n\r\n[]", {400}),
        ("gzip transfer coding", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", {501}),
        ("Transfer-Encoding in HTTP/1.0", b"POST /api/v1/ticks HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}),
        ("bad chunk size", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n", {400}),
        ("chunk without its CRLF", b"POST /api/v1/ticks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]XX0\r\n\r\n", {400}),
        ("bare LF line ends", b"GET / HTTP/1.1\nHost: x\n\n", {400}),
        ("bare CR in a header", b"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", {400}),
        ("space before a colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", {400}),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n", {400}),
        ("header line without a colon", b"GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", {400}),
        ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\nX-A: a\r\n\r\n", {400}),
        ("two Host headers", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {400}),
    ]
    for name, request, expect in cases:
        s = connect(port)
        try:
            s.sendall(request + follow)
        except OSError:
            pass
        data, closed = read_all(s, timeout=5)
        s.close()
        got = responses(data)
        statuses = [r[0] for r in got]
        closes = len(got) == 1 and got[0][1].get("connection", "").lower() == "close"
        check(f"framing error answered once and closed: {name} → {'/'.join(map(str, sorted(expect)))}",
              len(got) == 1 and statuses[0] in expect and closes and closed,
              f"responses {statuses}, {'Connection: close' if closes else 'no Connection: close'}, "
              f"{'closed' if closed else 'left open'}, {len(data)} bytes")


def flood(binary, work):
    """A second server with max_connections 50: 300 connections at once."""
    os.makedirs(work, exist_ok=True)
    server = ws_e2e.Server(binary, work, extra_env={"DFP_SERVER_MAX_CONNECTIONS": "50"})
    try:
        held, refused = [], 0
        for _ in range(300):
            try:
                s = connect(server.port, timeout=5)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(5)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    held.append(s)
                else:
                    refused += 1
                    s.close()
            except (OSError, ssl.SSLError):
                refused += 1
        alive = server.process.poll() is None
        check("flood: 300 connections against max_connections 50", len(held) <= 50 and refused >= 250 and alive,
              f"{len(held)} served and held, {refused} refused, server {'alive' if alive else 'DEAD'}")
        for s in held:
            s.close()
        time.sleep(0.5)
        ok, detail = answered_and_closed(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {200})
        check("flood: served again once the flood is gone", ok, detail)
    finally:
        server.stop()


# --- WebSocket ----------------------------------------------------------------------------------

def ws_open(port, deflate=False):
    s = connect(port)
    ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else b""
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + ext + b"\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed during the upgrade")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"upgrade refused: {head[:80]!r}")
    if deflate and b"permessage-deflate" not in head:
        raise RuntimeError("permessage-deflate not negotiated")
    return s, rest


def frame(opcode, payload, masked=True, rsv1=False, fake_length=None):
    b0 = 0x80 | (0x40 if rsv1 else 0) | opcode
    n = len(payload) if fake_length is None else fake_length
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = bytes([b0, mask_bit | n])
    elif n < 65536:
        head = bytes([b0, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def close_code(s, pending):
    """The code of the server's close frame (skipping other frames), or None."""
    data, _ = read_all(s, limit=1 << 22, timeout=10)
    data = pending + data
    i = 0
    while i + 2 <= len(data):
        opcode, n = data[i] & 0x0F, data[i + 1] & 0x7F
        j = i + 2
        if n == 126:
            n, j = struct.unpack(">H", data[j:j + 2])[0], j + 2
        elif n == 127:
            n, j = struct.unpack(">Q", data[j:j + 8])[0], j + 8
        if opcode == 8:
            return struct.unpack(">H", data[j:j + 2])[0] if n >= 2 else None
        i = j + n
    return None


def websocket_cases(port):
    bomb_body = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = bomb_body.compress(b"\0" * (64 << 20)) + bomb_body.flush(zlib.Z_SYNC_FLUSH)
    compressed = compressed[:-4]
    cases = [
        ("zip bomb: 64 MiB of zeros in %d compressed bytes" % len(compressed), True, frame(1, compressed, rsv1=True), {1009}),
        ("invalid UTF-8 text", False, frame(1, b"\xc3\x28 not utf-8"), {1007}),
        ("unmasked client frame", False, frame(1, b'{"op":"ping"}', masked=False), {1002}),
        ("frame claiming 2^63 bytes", False, frame(2, b"", fake_length=(1 << 63) - 1)[:14], {1009, 1002}),
        ("reserved opcode 3", False, frame(3, b"x"), {1002}),
        ("compressed bit without the extension", False, frame(1, b"abc", rsv1=True), {1002}),
        # First fragment only, then a ping to look alive: the message timeout (3 s here) ends it.
        ("a message whose last fragment never comes", False,
         bytes([0x01]) + frame(1, b'{"op":"subscribe","symbols":["A')[1:] + frame(9, b"alive"), {1008}),
    ]
    for name, deflate, payload, expect in cases:
        try:
            s, pending = ws_open(port, deflate)
            s.sendall(payload)
            code = close_code(s, pending)
            s.close()
        except (OSError, RuntimeError) as e:
            code = f"error {e}"
        check(f"websocket: {name} → {'/'.join(map(str, sorted(expect)))}", code in expect, f"close code {code}")


def next_text(s, pending, want, timeout=10):
    """Reads frames until a text message containing `want`; (message or None, rest of the bytes)."""
    s.settimeout(timeout)
    data = pending
    while True:
        while len(data) >= 2:
            opcode, n, j = data[0] & 0x0F, data[1] & 0x7F, 2
            if n == 126:
                if len(data) < 4:
                    break
                n, j = struct.unpack(">H", data[2:4])[0], 4
            elif n == 127:
                if len(data) < 10:
                    break
                n, j = struct.unpack(">Q", data[2:10])[0], 10
            if len(data) < j + n:
                break
            payload, data = data[j:j + n], data[j + n:]
            if opcode == 8:
                return None, data
            if opcode == 1 and want in payload:
                return payload, data
        try:
            chunk = s.recv(1 << 16)
        except (OSError, ssl.SSLError):
            return None, data
        if not chunk:
            return None, data
        data += chunk


def subscription_hoard(port, pid, clients=40, symbols=70000):
    """Each client names ~1 MB of symbols: refused, the connection stays usable, nothing is held."""
    body = json.dumps({"op": "subscribe", "channels": ["ticks"],
                       "symbols": [f"S{i:07d}.X" for i in range(symbols)]}).encode()
    before = rss_kb(pid)
    held, refused, usable = [], 0, 0
    try:
        for _ in range(clients):
            s, pending = ws_open(port)
            s.sendall(frame(1, body))
            reply, pending = next_text(s, pending, b'"error"')
            refused += reply is not None and b"invalid_subscription" in reply
            held.append((s, pending))
        grown = rss_kb(pid) - before
        for s, pending in held:
            s.sendall(frame(1, b'{"op":"ping"}'))
            reply, _ = next_text(s, pending, b'"pong"')
            usable += reply is not None
    except (OSError, RuntimeError) as e:
        grown = None
        print(f"    subscription hoard: {e}")
    finally:
        for s, _ in held:
            s.close()
    check(f"websocket: {clients} subscriptions naming {symbols:,} symbols ({len(body) >> 10} KiB) → invalid_subscription, "
          "connection kept, nothing held", refused == clients and usable == clients and grown is not None and grown < 32 * 1024,
          f"{refused} refused, {usable} still answer ping, RSS {(grown or 0) / 1024:+.1f} MB while all {clients} are open")


def ping_flood(port, pid, clients=10, seconds=1.0):
    """Clients send pings as fast as they can without reading a pong: the server stops reading
    them (backpressure) instead of queueing pongs without bound, and once they read, they are
    answered and the connection is still usable."""
    ping = frame(9, b"x" * 125) * 64
    before = rss_kb(pid)
    flooders = []
    try:
        for _ in range(clients):
            s, pending = ws_open(port)
            s.setblocking(False)
            sent, off, blocked, deadline = 0, 0, False, time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    n = s.send(ping[off:])  # after a want-write, the same bytes again (OpenSSL)
                    sent, off, blocked = sent + n, (off + n) % len(ping), False
                except (ssl.SSLWantWriteError, BlockingIOError):
                    blocked = True
                    time.sleep(0.005)
            flooders.append([s, pending, ping[off:] if off or blocked else b"", sent])
        grown = rss_kb(pid) - before
        usable = 0
        for f in flooders:
            # The flood's last frame first, as it was (a retried TLS write keeps its length).
            s, data, out = f[0], f[1], [b for b in (f[2], frame(1, b'{"op":"ping"}')) if b]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if out:
                    try:
                        n = s.send(out[0])
                        out[0] = out[0][n:]
                        if not out[0]:
                            out.pop(0)
                    except (ssl.SSLWantWriteError, BlockingIOError):
                        pass
                try:
                    chunk = s.recv(1 << 16)
                    if not chunk:
                        break
                    data = (data + chunk)[-(1 << 16):] if b'"pong"' not in chunk else data + chunk
                except (ssl.SSLWantReadError, BlockingIOError):
                    time.sleep(0.001)
                if not out and b'{"type":"pong"' in data:
                    usable += 1
                    break
    except (OSError, RuntimeError) as e:
        grown, usable = None, 0
        print(f"    ping flood: {e}")
    finally:
        for f in flooders:
            f[0].close()
    sent = sorted(f[3] >> 20 for f in flooders) or [0]
    check(f"websocket: {clients} clients flood pings without reading → read no further until they do, then answered",
          usable == clients and grown is not None and grown < clients * 4 * 1024,
          f"{usable} usable afterwards, RSS {(grown or 0) / 1024:+.1f} MB, {sent[0]}–{sent[-1]} MiB of pings sent each before the server stopped reading")


def main():
    binary = sys.argv[1]
    slow = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
    with tempfile.TemporaryDirectory(prefix="dongfeng-hostile-") as work:
        server = ws_e2e.Server(binary, work, extra_env={"DFP_HTTP_HEADER_TIMEOUT_S": "6", "DFP_WEBSOCKET_MESSAGE_TIMEOUT_S": "3",
                                                        "DFP_SERVER_MAX_CONNECTIONS": str(slow + 500)})
        try:
            port, pid = server.port, server.process.pid
            throughput(port, 1.0)  # warm-up
            time.sleep(0.5)
            rss0 = rss_kb(pid)
            base = throughput(port)
            child = subprocess.Popen([sys.executable, __file__, "--slowloris", str(port), str(slow)],
                                     stdout=subprocess.PIPE, text=True)
            connected = child.stdout.readline().strip()
            under = throughput(port)
            out, _ = child.communicate(timeout=120)
            ratio = under / base if base else 0
            check(f"slowloris: normal clients keep >= 90% of baseline with {connected.split()[-1]} trickling connections",
                  ratio >= 0.9, f"{base:.0f} req/s before, {under:.0f} req/s during ({ratio:.0%})")
            parts = out.split()
            got408 = int(parts[-1]) if len(parts) >= 4 else 0
            check("slowloris: trickling connections answered 408 at the header timeout", got408 >= int(connected.split()[-1]) * 0.9,
                  out.strip())

            readers = slow_readers(port)
            time.sleep(2)
            peak = rss_kb(pid)
            served = throughput(port, 1.0)
            check("slow readers: 40 × 400 pipelined page requests never read; the server keeps serving",
                  served > 0 and server.process.poll() is None, f"RSS {rss0 // 1024} MB → {peak // 1024} MB, {served:.0f} req/s meanwhile")
            for s in readers:
                s.close()

            http_limits(port)
            smuggling(port)
            framing_errors(port)
            websocket_cases(port)
            subscription_hoard(port, pid)
            ping_flood(port, pid)
            flood(binary, os.path.join(work, "flood"))

            alive = server.process.poll() is None
            ok, detail = answered_and_closed(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {200})
            check("after it all: the server is alive and answers /health", alive and ok, detail)
            deadline = time.monotonic() + 15
            rss1 = rss_kb(pid)
            while rss1 > rss0 + 16 * 1024 and time.monotonic() < deadline:
                time.sleep(0.5)
                rss1 = rss_kb(pid)
            check("after it all: RSS back within 16 MiB of where it started", rss1 <= rss0 + 16 * 1024,
                  f"{rss0 / 1024:.1f} MB at start, {rss1 / 1024:.1f} MB now")
        finally:
            server.stop()
    failed = results.count(False)
    print(f"hostile_test: {results.count(True)} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--slowloris":
        slowloris(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
