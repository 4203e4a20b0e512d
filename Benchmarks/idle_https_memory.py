#!/usr/bin/env python3
"""Memory per idle keep-alive HTTPS connection, measured the same way for every server: N TLS
connections (Python's ssl: TLS 1.3, X25519), each sends one GET and reads the answer head, then
all stay open and idle; the server's RSS (its processes summed) before and after, divided by N.
A few connections are opened and used first so one-time allocations are out of the way; run it
on a freshly started server (RSS a server keeps after an earlier burst would hide its cost).
Usage: idle_https_memory.py PORT PID[,PID...] N PATH   → prints bytes per connection."""
import socket
import ssl
import sys
import time

port, pids, n, path = int(sys.argv[1]), [int(p) for p in sys.argv[2].split(",")], int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


def rss():
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    total += int(line.split()[1]) * 1024
    return total


def connect():
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    s.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("closed before answering")
        data += chunk
    if not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected answer {data[:40]!r}")
    return s


warm = [connect() for _ in range(50)]
time.sleep(0.5)
before = rss()
held = [connect() for _ in range(n)]
time.sleep(1.0)
after = rss()
print(f"{(after - before) / n:.0f}")
