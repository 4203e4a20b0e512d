"""Crash durability: the real `dongfeng` binary under a steady simulated tick load is killed with
SIGKILL at random moments, several rounds, on one data directory. After each restart:
- the start is warm from the checkpoint and the inputs journaled after it, and the first new signal
  comes within 3 s of starting the process;
- every event a WebSocket client received before the crash is served again (REST) with the same seq
  and the same content;
- seq continues after the journaled ones, never reused;
- the client, resuming with the last seq it received, sees no gap: over all rounds the seqs it
  received are exactly the seqs the server has.
Usage: crash_test.py DONGFENG_BINARY [ROUNDS]. Prints one line per round and a summary line."""
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_e2e import ROOT, REST_KINDS, CheckFailed, Client, event_fields, require  # noqa: E402
import ws_e2e  # noqa: E402


class CrashableServer(ws_e2e.Server):
    """The server with the simulator feed at a steady rate, and a kill -9."""

    def __init__(self, binary, workdir):
        super().__init__(binary, workdir, feed="simulator",
                         extra_env={"DFP_SIMULATOR_TICKS_PER_SECOND": "4000", "DFP_PIPELINE_INTERVAL": "100ms",
                                    "DFP_JOURNAL_FSYNC": "interval"})

    def kill9(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


def all_events(client):
    """Every sequenced event the server holds, by seq (REST pages, payload as served, less a
    signal's `outcome`: live scoring, which goes on filling in as bars close)."""
    out = {}
    for path, kind in REST_KINDS:
        since = 0
        while True:
            page = client.get(f"/api/v1/{path}?since_seq={since}&limit=1000")
            for item in page["items"]:
                out[item["seq"]] = {"type": kind, "seq": item["seq"], "payload": event_fields(item)}
            if len(page["items"]) < 1000:
                break
            since = page["next_since_seq"]
    return out


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rng = random.Random(20261125)
    received = {}  # seq -> envelope, across rounds
    last_seq = 0
    failures = 0
    with tempfile.TemporaryDirectory(prefix="dongfeng-crash-") as work:
        for round_no in range(1, rounds + 1):
            started = time.monotonic()
            server = CrashableServer(binary, work)
            try:
                client = Client(server)
                pipeline = client.get("/admin/health")["pipeline"]
                if round_no > 1:
                    # 0. A crash restart is as warm as a clean one: the checkpoint and the inputs after it.
                    require(pipeline["start"] == "warm" and "checkpoint" in pipeline["start_reason"],
                            f"round {round_no}: restart after kill -9 is {pipeline['start']}: {pipeline['start_reason']}")
                held = all_events(client)
                # 1. Everything received before the crash is there, same seq, same content.
                missing = [s for s in received if s not in held]
                changed = [s for s in received if s in held and held[s] != received[s]]
                require(not missing, f"round {round_no}: {len(missing)} received events are gone after restart, e.g. {missing[:5]}")
                require(not changed, f"round {round_no}: {len(changed)} events changed, e.g. seq {changed[:1]}")
                ws = client.ws(f"/ws?channels=opportunities,signals,risk_alerts&since_seq={last_seq}").__enter__()
                hello = json.loads(ws.recv(timeout=10))
                require(hello["type"] == "hello" and hello["seq"] >= last_seq,
                        f"round {round_no}: hello seq {hello.get('seq')} is behind the last received {last_seq}")
                restored = hello["seq"]
                # 2. Receive for a random while, then SIGKILL mid-stream.
                stop_at = time.time() + rng.uniform(1.0, 3.0)
                got = 0
                new_after_restart = []
                first_signal = None
                while time.time() < stop_at:
                    try:
                        m = json.loads(ws.recv(timeout=0.5))
                    except TimeoutError:
                        continue
                    if m.get("type") in ("opportunity", "signal", "risk_alert"):
                        require(m["seq"] > last_seq, f"round {round_no}: seq {m['seq']} repeats or goes back (last {last_seq})")
                        received[m["seq"]] = m
                        last_seq = m["seq"]
                        got += 1
                        if m["seq"] > restored:
                            new_after_restart.append(m["seq"])
                            if first_signal is None and m["type"] == "signal":
                                first_signal = time.monotonic() - started
                server.kill9()
                ws.__exit__(None, None, None)
                require(got > 0, f"round {round_no}: no events in the window")
                if round_no > 1:
                    require(first_signal is not None and first_signal <= 3.0,
                            f"round {round_no}: first signal {first_signal} s after the restart (warm: within 3 s)")
                print(f"PASS round {round_no}: {pipeline['start']} start ({pipeline['start_reason']}), first new signal "
                      f"{first_signal if first_signal is None else round(first_signal, 2)} s after starting; restored seq {restored} "
                      f"({len(held)} events held, all {len(received) - got} received earlier intact); received {got} more "
                      f"up to seq {last_seq}; killed -9")
            except CheckFailed as e:
                failures += 1
                print(f"FAIL round {round_no}: {e}")
                server.stop()
                break
            except Exception as e:  # noqa: BLE001
                failures += 1
                print(f"FAIL round {round_no}: {type(e).__name__}: {e}")
                server.stop()
                break
        # 3. After the last crash: no gap — the client's seqs are exactly the server's.
        if failures == 0:
            started = time.monotonic()
            server = CrashableServer(binary, work)
            try:
                client = Client(server)
                pipeline = client.get("/admin/health")["pipeline"]
                if round_no > 1:
                    # 0. A crash restart is as warm as a clean one: the checkpoint and the inputs after it.
                    require(pipeline["start"] == "warm" and "checkpoint" in pipeline["start_reason"],
                            f"round {round_no}: restart after kill -9 is {pipeline['start']}: {pipeline['start_reason']}")
                held = all_events(client)
                upto = {s for s in held if s <= last_seq}
                gaps = sorted(upto - set(received))
                extra = sorted(set(received) - upto)
                if gaps or extra:
                    failures += 1
                    print(f"FAIL no gap across {rounds} crashes: missed {gaps[:10]} ({len(gaps)}), unknown {extra[:10]}")
                else:
                    print(f"PASS no gap across {rounds} crashes: the client received exactly the server's {len(upto)} "
                          f"events up to seq {last_seq}, in order, none twice")
            finally:
                server.stop()
    print(f"crash_test: {rounds + 1 if failures == 0 else 0} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
