#!/usr/bin/env python3
"""Where an idle connection's memory goes: heap in use (malloc, from /admin/health's heap_bytes)
per connection held open, by kind — plain TCP accepted, plain HTTP after one request, plain
WebSocket, TLS after the handshake, TLS HTTP after one request, WSS. Heap rather than RSS: RSS
also counts memory malloc keeps after a burst, so it depends on what ran before.
Usage: conn_memory.py TLS_PORT PLAIN_PORT [CONNECTIONS]   (plain HTTP in `serve` mode)
Prints one `kind<TAB>bytes` line per kind."""
import json
import socket
import ssl
import sys
import time
import urllib.request

tls_port, plain_port = int(sys.argv[1]), int(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def heap():
    with urllib.request.urlopen(f"http://127.0.0.1:{plain_port}/admin/health") as r:
        return json.loads(r.read())["heap_bytes"]


def answered(s, request, expect):
    s.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed before answering")
        data += chunk
    if not data.startswith(expect):
        raise RuntimeError(f"unexpected answer {data[:40]!r}")
    return s


def plain():
    return socket.create_connection(("127.0.0.1", plain_port))


def tls():
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls_port)), server_hostname="localhost")


KINDS = [
    ("plain TCP, accepted", plain),
    ("plain HTTP, after one request", lambda: answered(plain(), b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n", b"HTTP/1.1 200")),
    ("plain WebSocket, after the hello", lambda: answered(plain(), UPGRADE, b"HTTP/1.1 101")),
    ("TLS, after the handshake", tls),
    ("HTTPS, after one request", lambda: answered(tls(), b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n", b"HTTP/1.1 200")),
    ("WSS, after the hello", lambda: answered(tls(), UPGRADE, b"HTTP/1.1 101")),
]
for name, make in KINDS:
    before = heap()
    held = [make() for _ in range(count)]
    time.sleep(0.5)  # the server has read everything sent
    after = heap()
    print(f"{name}\t{(after - before) / count:.0f}", flush=True)
    for s in held:
        s.close()
    time.sleep(1)
