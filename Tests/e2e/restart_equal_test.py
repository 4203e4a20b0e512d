"""Restarts change nothing: the same ticks, POSTed in batches to the real `dongfeng`, once without
interruption and once with restarts at random batches — kill -9 right after a 202, a clean
SIGTERM, and kill -9 a random moment after a 202 — on the same data folder. The signals,
opportunity events (ids included) and risk alerts of both runs must be the same, seq for seq and
field for field, and every restart must be warm from the checkpoint. A 202 means the ticks are
processed and journaled, so the client never resends anything.
Usage: restart_equal_test.py DONGFENG_BINARY [SEED]. Prints one line per check and a summary."""
import json
import os
import random
import signal
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_e2e  # noqa: E402
from ws_e2e import Client  # noqa: E402

results = []

SYMBOLS = {"600519.SH": 1688.50, "000001.SZ": 10.52, "300750.SZ": 180.30, "BTC-USDT": 43210.0}


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def batches(seed, count=160, size=120):
    """Past-dated ticks (every batch holds every symbol), trends and a few jumps that block a
    symbol for a while, wide spreads now and then: every strategy and several alert kinds fire."""
    rng = random.Random(seed)
    price = dict(SYMBOLS)
    ts = 1_732_500_000_000
    out = []
    for b in range(count):
        batch = []
        drift = {s: rng.choice((-1, 1)) * 0.0004 for s in price}
        for i in range(size):
            s = sorted(price)[i % len(price)]
            ts += rng.randint(20, 120)
            step = rng.gauss(drift[s], 0.0015)
            if rng.random() < 0.0008:
                step += rng.choice((-1, 1)) * 0.07  # a jump: price_jump critical, the symbol blocked
            price[s] = max(0.01, price[s] * (1 + step))
            p = round(price[s], 2)
            spread = p * (0.01 if rng.random() < 0.002 else 0.0002)
            batch.append({"symbol": s, "ts": ts, "price": p, "volume": rng.randint(1, 50) * 100,
                          "bid": round(p - spread / 2, 4), "ask": round(p + spread / 2, 4)})
        out.append(batch)
    return out


def start(binary, work):
    os.makedirs(work, exist_ok=True)
    return ws_e2e.Server(binary, work, extra_env={
        "DFP_PIPELINE_INTERVAL": "1s",
        # Past-dated ticks: no bar may be closed by the wall clock while the client pauses for a
        # restart (a live feed is what that rule is for).
        "DFP_PIPELINE_BAR_GRACE_MS": "600000",
        "DFP_JOURNAL_CHECKPOINT_INTERVAL_S": "1",
    })


def events(client):
    """Every sequenced event the server holds, by seq."""
    out = {}
    for path, kind in ws_e2e.REST_KINDS:
        since = 0
        while True:
            page = client.get(f"/api/v1/{path}?since_seq={since}&limit=1000")
            for item in page["items"]:
                out[item["seq"]] = (kind, item)
            if len(page["items"]) < 1000:
                break
            since = page["next_since_seq"]
    return out


def settle(client, ticks):
    last = -1
    for _ in range(400):
        p = client.get("/admin/health")["pipeline"]
        if p["ticks"] >= ticks and p["last_seq"] == last:
            return
        last = p["last_seq"]
        time.sleep(0.05)
    raise RuntimeError(f"pipeline did not settle at {ticks} ticks")


def post(client, batch):
    client.post_ticks(batch)  # 202 with every tick accepted, or it raises


def put_strategy(client, name, settings):
    """PUT /api/v1/strategies/{name} (admin: loopback)."""
    req = urllib.request.Request(f"https://127.0.0.1:{client.port}/api/v1/strategies/{name}", method="PUT",
                                 data=json.dumps(settings).encode(), headers={"Content-Type": "application/json"})
    with client.http.open(req, timeout=10) as r:
        if r.status != 200:
            raise RuntimeError(f"PUT {name}: {r.status}")


# A live strategy change between two batches, in both runs: the restarts must replay it in place.
CHANGES = {"rsi_reversal": {"enabled": False}, "bollinger": {"mode": "breakout"}}


def change_strategies(client):
    for name, settings in CHANGES.items():
        put_strategy(client, name, settings)


def main():
    binary = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rng = random.Random(seed)
    work_batches = batches(seed)
    total = sum(len(b) for b in work_batches)
    plan = sorted(rng.sample(range(10, len(work_batches) - 5), 3))
    change_at = rng.randint(plan[0] + 1, plan[1])  # after the first restart, at or before the second
    with tempfile.TemporaryDirectory(prefix="dongfeng-equal-") as work:
        # 1. The uninterrupted run.
        server = start(binary, os.path.join(work, "a"))
        try:
            client = Client(server)
            for i, batch in enumerate(work_batches):
                if i == change_at:
                    change_strategies(client)
                post(client, batch)
            settle(client, total)
            reference = events(client)
        finally:
            server.stop()
        kinds = {k for k, _ in reference.values()}
        check("the uninterrupted run makes signals, opportunities and alerts", kinds == {"signal", "opportunity", "risk_alert"},
              f"{len(reference)} events, last seq {max(reference, default=0)}")
        blocked = [e for k, e in reference.values() if k == "opportunity" and e["status"] == "blocked"]

        # 2. The same ticks with three restarts.
        how = {plan[0]: "kill -9 at once", plan[1]: "SIGTERM", plan[2]: "kill -9 after a pause"}
        folder = os.path.join(work, "b")
        server = start(binary, folder)
        starts = []
        try:
            client = Client(server)
            for i, batch in enumerate(work_batches):
                if i == change_at:
                    change_strategies(client)
                post(client, batch)
                if i in how:
                    if how[i] == "SIGTERM":
                        server.stop()
                    else:
                        if how[i] == "kill -9 after a pause":
                            time.sleep(rng.uniform(0.05, 1.5))
                        os.kill(server.process.pid, signal.SIGKILL)
                        server.process.wait()
                    server = start(binary, folder)
                    client = Client(server)
                    p = client.get("/admin/health")["pipeline"]
                    starts.append((how[i], p["start"], p["start_reason"]))
            settle(client, 0)
            after = events(client)
        finally:
            server.stop()
        for kind, mode, reason in starts:
            check(f"restart by {kind} is warm from the checkpoint", mode == "warm" and "checkpoint" in reason and "not exact" not in reason,
                  reason)
        missing = sorted(set(reference) - set(after))
        extra = sorted(set(after) - set(reference))
        changed = [s for s in reference if s in after and after[s] != reference[s]]
        detail = f"{len(after)} events vs {len(reference)}"
        if missing:
            detail += f"; missing seqs {missing[:5]}"
        if extra:
            detail += f"; extra seqs {extra[:5]}"
        if changed:
            s = changed[0]
            detail += f"; {len(changed)} differ, first seq {s}: {json.dumps(reference[s][1])} vs {json.dumps(after[s][1])}"
        check(f"restarts at batches {plan} ({', '.join(how[i] for i in plan)}), strategies changed live at {change_at}, "
              "change no event, seq or id",
              not missing and not extra and not changed, detail)
        check("some opportunities were blocked by the risk guard (its holds carried across)", len(blocked) > 0,
              f"{len(blocked)} blocked opportunity events")
    failed = results.count(False)
    print(f"restart_equal_test: {results.count(True)} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
