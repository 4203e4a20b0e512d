"""End to end: random ticks → `dongfeng replay --emit bars,features` → every feature compared
with TA-Lib computed on the bars the replay emitted (1e-9 relative, same warm-up).
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


def make_ticks(path, seed, count=60000):
    rng = random.Random(seed)
    price = {"600519.SH": 1688.5, "000001.SZ": 10.52}
    ts = 1732500000000
    with open(path, "w") as f:
        f.write("symbol,ts,volume,price\n")  # columns in a different order on purpose
        for i in range(count):
            ts += rng.randint(100, 3000)
            s = rng.choice(sorted(price))
            price[s] = max(0.5, price[s] * (1 + rng.gauss(0, 0.002)))
            if rng.random() < 0.001:
                ts += 600000  # gaps: empty minutes make no bar
            f.write(f"{s},{ts},{rng.randint(1, 90) * 100},{price[s]:.2f}\n")


def compare(ours, theirs, name, errors):
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, theirs)):
        b = None if b is None or math.isnan(b) else float(b)
        if (a is None) != (b is None):
            errors.append(f"{name}[{i}]: ours {a}, TA-Lib {b}")
            continue
        if a is None:
            continue
        e = abs(a - b) / max(1.0, abs(b))
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
        out = subprocess.run([binary, "replay", "--input", ticks, "--interval", "1m", "--emit", "bars,features"],
                             capture_output=True, check=True).stdout.decode()
    bars, feats = {}, {}
    for line in out.splitlines():
        e = json.loads(line)
        p = e["payload"]
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
    print(f"replay vs TA-Lib: {sum(len(b) for b in bars.values())} bars, {values} values, worst relative error {worst:.3g}, {len(errors)} disagreements")
    for e in errors[:10]:
        print("  " + e)
    sys.exit(1 if errors or values == 0 else 0)


if __name__ == "__main__":
    main()
