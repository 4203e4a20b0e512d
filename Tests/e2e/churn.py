"""Connection churn for the leak check (Tests/sanitizers.sh): N rounds, each of
- a TLS connection with one request and Connection: close;
- a keep-alive connection with three requests (health, opportunities, the page);
- a WebSocket: upgrade with permessage-deflate, subscribe, a ping, a clean close;
- a malformed request (400, closed by the server);
- a TLS handshake dropped without a byte of HTTP, and a TCP connection dropped before TLS.
Usage: churn.py PORT ROUNDS. Exits 1 if the server stopped answering."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_test import connect, frame, read_all, status_of, ws_open  # noqa: E402


def one_round(port):
    s = connect(port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data, _ = read_all(s)
    s.close()
    if status_of(data) != 200:
        raise RuntimeError(f"/health answered {data[:60]!r}")
    s = connect(port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/opportunities?limit=5 HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data, _ = read_all(s)
    s.close()
    if data.count(b"HTTP/1.1 200") != 3:
        raise RuntimeError("keep-alive requests were not all answered")
    s, _ = ws_open(port, deflate=True)
    s.sendall(frame(1, b'{"op":"subscribe","channels":["opportunities","ticks"],"symbols":["*"]}') + frame(9, b"p")
              + frame(8, (1000).to_bytes(2, "big") + b"bye"))
    read_all(s, timeout=5)
    s.close()
    s = connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n")
    read_all(s)
    s.close()
    connect(port).close()
    socket.create_connection(("127.0.0.1", port)).close()


def main():
    port, rounds = int(sys.argv[1]), int(sys.argv[2])
    for i in range(rounds):
        one_round(port)
    print(f"churn: {rounds} rounds, {rounds * 6} connections")


if __name__ == "__main__":
    main()
