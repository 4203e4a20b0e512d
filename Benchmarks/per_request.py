#!/usr/bin/env python3
"""Helpers of Benchmarks/per_request.sh: what one HTTPS request costs a server.

  per_request.py records PORT PATH N       TLS records and bytes per response, as the client sees
                                           them (one keep-alive connection, N GETs; the first
                                           answer, which shares its flight with the TLS 1.3
                                           session tickets, is left out)
  per_request.py strace FILE REQUESTS      a `strace -c` table, per request: JSON
  per_request.py callgrind FILE REQUESTS   a callgrind dump, per request: instructions and calls
                                           to the allocator and to Swift's retain/release: JSON
"""
import json
import re
import socket
import ssl
import sys


def records(port, path, n):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sock = socket.create_connection(("127.0.0.1", port))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    raw = bytearray()  # undecoded record bytes from the socket

    def flush():
        data = outgoing.read()
        if data:
            sock.sendall(data)

    def read_records():
        """Reads whole records from the socket into the TLS object; returns (count, bytes)."""
        while len(raw) < 5 or len(raw) < 5 + int.from_bytes(raw[3:5], "big"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            raw.extend(chunk)
        count = size = 0
        while len(raw) >= 5 and len(raw) >= 5 + int.from_bytes(raw[3:5], "big"):
            length = 5 + int.from_bytes(raw[3:5], "big")
            incoming.write(bytes(raw[:length]))
            del raw[:length]
            count += 1
            size += length
        return count, size

    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush()
            read_records()
    flush()
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    per_response = []
    for i in range(n):
        tls.write(request)
        flush()
        body = bytearray()
        count = size = 0
        length = None
        while True:
            c, s = read_records()
            count += c
            size += s
            while True:
                try:
                    body.extend(tls.read(65536))
                except ssl.SSLWantReadError:
                    break
            head_end = body.find(b"\r\n\r\n")
            if head_end >= 0 and length is None:
                m = re.search(rb"(?i)content-length:\s*(\d+)", bytes(body[:head_end]))
                if not m:
                    raise ValueError("no Content-Length in the answer")
                length = int(m.group(1))
            if length is not None and len(body) >= head_end + 4 + length:
                break
        if i > 0:
            per_response.append((count, size))
    sock.close()
    k = len(per_response)
    print(json.dumps({"records": sum(c for c, _ in per_response) / k, "bytes": sum(s for _, s in per_response) / k}))


def strace_table(path, requests):
    calls = {}
    for line in open(path):
        parts = line.split()
        # % time, seconds, usecs/call, calls, [errors], syscall
        if len(parts) >= 5 and re.fullmatch(r"[\d.]+", parts[0]) and parts[-1] != "total":
            try:
                calls[parts[-1]] = int(parts[3])
            except ValueError:
                continue
    total = sum(calls.values())
    print(json.dumps({"total": total / requests,
                      "by_call": {k: v / requests for k, v in sorted(calls.items(), key=lambda kv: -kv[1])}}))


ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
# libcrypto's wrappers: every allocation OpenSSL makes goes through one of them.
OPENSSL_ALLOCATORS = {"CRYPTO_malloc", "CRYPTO_zalloc", "CRYPTO_realloc", "CRYPTO_clear_realloc",
                      "CRYPTO_secure_malloc", "CRYPTO_secure_zalloc"}


def callgrind(path, requests):
    names = {}
    instructions = 0
    alloc = retain = release = 0
    alloc_openssl = 0  # of which OpenSSL's allocator wrappers made the call
    caller = callee = None

    def name(spec):
        m = re.match(r"\((\d+)\)(?: (.*))?", spec)
        if not m:
            return spec
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), "?")

    for line in open(path, errors="replace"):
        if line.startswith("summary:") or line.startswith("totals:"):
            instructions = int(line.split()[1])
        elif line.startswith("fn="):
            caller = name(line[3:].strip())
            callee = None
        elif line.startswith("cfn="):
            callee = name(line[4:].strip())
        elif line.startswith("calls=") and callee is not None:
            n = int(line[6:].split()[0])
            base = callee.split("'")[0]
            if base in ALLOCATORS:
                alloc += n
                if caller is not None and caller.split("'")[0] in OPENSSL_ALLOCATORS:
                    alloc_openssl += n
            elif base == "swift_retain" or base == "swift_bridgeObjectRetain":
                retain += n
            elif base == "swift_release" or base == "swift_bridgeObjectRelease":
                release += n
            callee = None
    print(json.dumps({"instructions": instructions / requests, "allocations": alloc / requests,
                      "allocations_openssl": alloc_openssl / requests,
                      "allocations_own": (alloc - alloc_openssl) / requests,
                      "retains": retain / requests, "releases": release / requests}))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "records":
        records(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "strace":
        strace_table(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "callgrind":
        callgrind(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
