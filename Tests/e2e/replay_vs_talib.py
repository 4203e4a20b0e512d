"""End to end: random ticks → `dongfeng replay --emit bars,features` → every feature compared
with TA-Lib computed on the bars the replay emitted (1e-9 relative, same warm-up), on random walks
and on long flat stretches (after a move, from the first bar, with one tiny move inside) at prices
of 0.01, 10 and 100,000; and no `rsi_reversal` signal may cite an RSI of 0 on a flat price.
Usage: replay_vs_talib.py DONGFENG_BINARY [SEED]. Exit 0 when all agree; prints a summary."""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import talib


# Per-symbol shapes in minutes, as (kind, minutes): "walk" moves on every tick, "flat" repeats the
# last price exactly (a suspended or stuck feed that still prints), "tiny" moves one price unit
# once and then stays flat. Prices are integer units over a divisor: 0.01, 10 and 100,000 levels.
SHAPES = {
    "600519.SH": ([("walk", 1500)], 168850, 100),
    "000001.SZ": ([("walk", 1500)], 1052, 100),
    "FLATMOVE.SZ": ([("walk", 120), ("flat", 620), ("walk", 90), ("flat", 520), ("walk", 150)], 2500, 100),
    "FLATSTART.SZ": ([("flat", 400), ("walk", 300), ("flat", 800)], 1234, 100),
    "TINY.SZ": ([("walk", 80), ("flat", 560), ("tiny", 1), ("flat", 600), ("walk", 259)], 99990, 100),
    "PENNY-USDT": ([("walk", 200), ("flat", 600), ("walk", 700)], 1234, 100_000),
    "HUGE-USDT": ([("walk", 150), ("flat", 650), ("tiny", 1), ("flat", 300), ("walk", 399)], 10_000_000, 100),
}


def make_ticks(path, seed, count=90000):
    """Random ticks over 1,500 minutes for every shape of SHAPES, with gaps (empty minutes make no
    bar) and columns in a different order on purpose."""
    rng = random.Random(seed)
    t0 = 1732500000000
    units = {s: start for s, (_, start, _) in SHAPES.items()}
    plans = {}
    for s, (plan, _, _) in SHAPES.items():
        minutes = []
        for kind, n in plan:
            minutes += [kind] * n
        plans[s] = minutes
    moved_tiny = set()
    ts = t0
    with open(path, "w") as f:
        f.write("symbol,ts,volume,price\n")
        for _ in range(count):
            ts += rng.randint(100, 1900)
            if rng.random() < 0.0005:
                ts += 600000
            minute = (ts - t0) // 60000
            s = rng.choice(sorted(SHAPES))
            plan = plans[s]
            if minute >= len(plan):
                break
            kind = plan[minute]
            if kind == "walk":
                units[s] = max(10, units[s] + round(rng.gauss(0, 0.002) * units[s]) + rng.randint(-2, 2))
            elif kind == "tiny" and (s, minute) not in moved_tiny:
                moved_tiny.add((s, minute))
                units[s] += 1
            divisor = SHAPES[s][2]
            decimals = len(str(divisor)) - 1
            f.write(f"{s},{ts},{rng.randint(1, 90) * 100},{units[s] / divisor:.{decimals}f}\n")


def compare(ours, theirs, name, errors):
    """Relative error; the only absolute slack is 1e-15 of the column's largest value, for values
    that are rounding noise around zero (MACD on a flat price)."""
    theirs = [None if b is None or math.isnan(b) else float(b) for b in theirs]
    scale = max((abs(b) for b in theirs if b is not None), default=0.0)
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if (a is None) != (b is None):
            errors.append(f"{name}[{i}]: ours {a}, TA-Lib {b}")
            continue
        if a is None:
            continue
        e = 0.0 if a == b else abs(a - b) / max(abs(b), scale * 1e-15)
        worst = max(worst, e)
        if e > 1e-9:
            errors.append(f"{name}[{i}]: ours {a}, TA-Lib {b}")
    return worst


def main():
    binary = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        ticks = os.path.join(tmp, "ticks.csv")
        make_ticks(ticks, seed)
        out = subprocess.run([binary, "replay", "--input", ticks, "--interval", "1m", "--emit", "bars,features,signals"],
                             capture_output=True, check=True).stdout.decode()
    bars, feats, signals = {}, {}, []
    for line in out.splitlines():
        e = json.loads(line)
        p = e["payload"]
        if e["type"] == "signal":
            signals.append(p)
            continue
        (bars if e["type"] == "bar" else feats).setdefault(p["symbol"], []).append(p)
    errors, worst, values = [], 0.0, 0
    for symbol, bs in bars.items():
        fs = feats[symbol]
        assert [b["start"] for b in bs] == [f["ts"] for f in fs], "features must follow bars one to one"
        o, h, l, c, v = (np.array([b[k] for b in bs], dtype=np.float64) for k in ("open", "high", "low", "close", "volume"))
        macd, sig, hist = talib.MACD(c, 12, 26, 9)
        up, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
        ref = {"sma_20": talib.SMA(c, 20), "ema_12": talib.EMA(c, 12), "ema_26": talib.EMA(c, 26), "ema_50": talib.EMA(c, 50),
               "rsi_14": talib.RSI(c, 14), "macd": macd, "macd_signal": sig, "macd_hist": hist, "bb_upper": up,
               "bb_middle": mid, "bb_lower": lo, "atr_14": talib.ATR(h, l, c, 14), "stddev_20": talib.STDDEV(c, 20, 1.0)}
        for name, series in ref.items():
            worst = max(worst, compare([f[name] for f in fs], list(series), f"{symbol} {name}", errors))
            values += len(fs)
    missing = sorted(set(SHAPES) - set(bars))
    if missing:
        errors.append(f"no bars for {missing}")
    # The false long of a collapsed RSI: "RSI crossed back above 30 (0.0 → …)".
    for signal in signals:
        if signal["strategy"] == "rsi_reversal" and ("(0.0 " in signal["reason"] or "(0 " in signal["reason"]):
            errors.append(f"rsi_reversal cites an RSI of 0: {signal['symbol']} at {signal['ts']}: {signal['reason']}")
    print(f"replay vs TA-Lib: {sum(len(b) for b in bars.values())} bars of {len(bars)} symbols, {values} values, "
          f"worst relative error {worst:.3g}, {len(signals)} signals, {len(errors)} disagreements")
    for e in errors[:10]:
        print("  " + e)
    sys.exit(1 if errors or values == 0 else 0)


if __name__ == "__main__":
    main()
