"""The fan-out a Python user would write with the `websockets` library (asyncio, one process):
the same messages as Dongfeng's `ticks` channel, to every subscriber, for Benchmarks/run.sh.

- A client whose path asks for `channels=ticks` subscribes; every other connection is a publisher.
- A simulated market (8 symbols, random walk) emits TICKS_PER_SECOND ticks, each broadcast as
  {"type":"tick","payload":{...}} with the fields and order Dongfeng sends.
- A publisher's {"op":"ticks","ticks":[...]} is broadcast the same way (the latency probe), and
  acknowledged like Dongfeng does.
- permessage-deflate is negotiated when the client offers it (the library's default).

The market starts once SUBSCRIBERS clients have subscribed (its broadcasts would otherwise starve
the handshakes and the load generator would never finish connecting), and when broadcasting falls
more than a second behind it skips ahead (a ticks channel is lossy): the delivered msgs/s and the
probes' latency then show what the server keeps up with.

Usage: server.py PORT CERT KEY TICKS_PER_SECOND SUBSCRIBERS
"""
import asyncio
import json
import random
import ssl
import sys
import time

from websockets.asyncio.server import broadcast, serve

port, cert, key, rate, wanted = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
subscribers = set()
dumps = json.JSONEncoder(separators=(",", ":")).encode


def tick_message(tick):
    return dumps({"type": "tick", "payload": tick})


async def handler(ws):
    path = ws.request.path
    await ws.send(dumps({"type": "hello", "server": "python-websockets", "seq": 0}))
    if "channels=ticks" in path:
        await ws.send(dumps({"type": "subscribed", "channels": ["ticks"], "symbols": ["*"], "min_confidence": 0.0}))
        subscribers.add(ws)
        try:
            await ws.wait_closed()
        finally:
            subscribers.discard(ws)
        return
    async for text in ws:
        message = json.loads(text)
        ticks = message.get("ticks", []) if message.get("op") == "ticks" else []
        for t in ticks:
            tick = {"symbol": t["symbol"], "ts": t["ts"], "price": float(t["price"]), "volume": float(t["volume"])}
            broadcast(subscribers, tick_message(tick))
        await ws.send(dumps({"type": "ack", "accepted": len(ticks), "rejected": []}))


async def market():
    symbols = ["600519.SH", "000001.SZ", "600036.SH", "300750.SZ", "601318.SH", "000858.SZ", "688981.SH", "002594.SZ"]
    prices = [1688.5, 10.5, 35.5, 178.5, 42.1, 110.1, 40.9, 205.1]
    rng = random.Random(7)
    while len(subscribers) < wanted:
        await asyncio.sleep(0.05)
    start = time.monotonic()
    sent = 0
    while True:
        await asyncio.sleep(0.01)
        due = int((time.monotonic() - start) * rate)
        if due - sent > rate:
            sent = due - int(rate / 10)
        while sent < due:
            k = rng.randrange(8)
            prices[k] = round(prices[k] * (1 + (rng.random() - 0.5) * 0.002), 2)
            p = prices[k]
            tick = {"symbol": symbols[k], "ts": int(time.time() * 1000), "price": p,
                    "volume": float(100 * rng.randint(1, 30)), "bid": round(p * 0.9998, 2), "ask": round(p * 1.0002, 2)}
            broadcast(subscribers, tick_message(tick))
            sent += 1


async def main():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    async with serve(handler, "127.0.0.1", port, ssl=context, max_queue=None, ping_interval=30):
        print(f"listening on wss://127.0.0.1:{port}", flush=True)
        await market()


asyncio.run(main())
