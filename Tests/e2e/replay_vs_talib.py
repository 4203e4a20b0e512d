"""End to end: random ticks → `dongfeng replay --emit bars,features --indicator …` → every feature,
and a dozen parameterised indicator calls with parameters drawn from the seed, compared with TA-Lib
computed on the bars the replay emitted (1e-9 relative, same warm-up), on random walks and on long
flat stretches (after a move, from the first bar, with one tiny move inside) at prices of 0.01, 10
and 100,000; and no `rsi_reversal` signal may cite an RSI of 0 on a flat price.
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


def compare(ours, theirs, name, errors, input_scale=None):
    """Relative error (≤ 1e-9). The features get no absolute slack beyond 1e-15 of the column's
    largest value in the denominator. The parameterised calls (`input_scale` given) get 1e-13 of
    the column's or the inputs' largest value, for values that are rounding noise around zero:
    MACD on a flat price is a difference of two price-level EMAs and carries their last bit; a %K
    or an MFI near 0 is a running sum's residue (TA-Lib's own MFI reads 1e-12 where flows cancel)."""
    theirs = [None if b is None or math.isnan(b) else float(b) for b in theirs]
    scale = max((abs(b) for b in theirs if b is not None), default=0.0)
    floor = scale * 1e-15 if input_scale is None else max(scale, input_scale) * 1e-4
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if (a is None) != (b is None):
            errors.append(f"{name}[{i}]: ours {a}, TA-Lib {b}")
            continue
        if a is None:
            continue
        e = 0.0 if a == b else abs(a - b) / max(abs(b), floor)
        worst = max(worst, e)
        if e > 1e-9:
            errors.append(f"{name}[{i}]: ours {a}, TA-Lib {b}")
    return worst


def random_calls(rng):
    """A dozen calls with parameters drawn from the seed, each with its TA-Lib reference."""
    field = lambda: rng.choice(["open", "high", "low", "close"])
    n = lambda lo=2, hi=60: rng.randint(lo, hi)
    calls = []
    x, p = field(), n()
    calls.append((f"sma({x},{p})", lambda b, x=x, p=p: talib.SMA(b[x], p)))
    x, p = field(), n()
    calls.append((f"ema({x},{p})", lambda b, x=x, p=p: talib.EMA(b[x], p)))
    x, p = field(), n()
    calls.append((f"wma({x},{p})", lambda b, x=x, p=p: talib.WMA(b[x], p)))
    p = n(2, 40)
    calls.append((f"rsi(close,{p})", lambda b, p=p: talib.RSI(b["close"], p)))
    f, sl, g = n(2, 20), n(2, 50), n(1, 15)
    for i, out in enumerate(["macd", "macd_signal", "macd_hist"]):
        calls.append((f"{out}(close,{f},{sl},{g})", lambda b, f=f, sl=sl, g=g, i=i: talib.MACD(b["close"], f, sl, g)[i]))
    p, k = n(), rng.choice([1, 1.5, 2, 2.5, 3])
    calls.append((f"bb_lower(close,{p},{k})", lambda b, p=p, k=k: talib.BBANDS(b["close"], p, k, k, 0)[2]))
    p = n()
    calls.append((f"atr({p})", lambda b, p=p: talib.ATR(b["high"], b["low"], b["close"], p)))
    p = n()
    calls.append((f"adx({p})", lambda b, p=p: talib.ADX(b["high"], b["low"], b["close"], p)))
    p = n()
    calls.append((f"cci({p})", lambda b, p=p: talib.CCI(b["high"], b["low"], b["close"], p)))
    p = n()
    calls.append((f"mfi({p})", lambda b, p=p: talib.MFI(b["high"], b["low"], b["close"], b["volume"], p)))
    fk, sk, sd = n(1, 30), n(1, 8), n(1, 8)
    for i, out in enumerate(["stoch_k", "stoch_d"]):
        calls.append((f"{out}({fk},{sk},{sd})",
                      lambda b, fk=fk, sk=sk, sd=sd, i=i: talib.STOCH(b["high"], b["low"], b["close"], fk, sk, 0, sd, 0)[i]))
    p = n()
    calls.append((f"willr({p})", lambda b, p=p: talib.WILLR(b["high"], b["low"], b["close"], p)))
    x, p = field(), n(1, 30)
    calls.append((f"roc({x},{p})", lambda b, x=x, p=p: talib.ROC(b[x], p)))
    x, p = field(), n()
    calls.append((f"highest({x},{p})", lambda b, x=x, p=p: talib.MAX(b[x], p)))
    calls.append(("obv()", lambda b: talib.OBV(b["close"], b["volume"])))
    return calls


def main():
    binary = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        ticks = os.path.join(tmp, "ticks.csv")
        make_ticks(ticks, seed)
        calls = random_calls(random.Random(seed * 7919))
        args = [binary, "replay", "--input", ticks, "--interval", "1m", "--emit", "bars,features,signals"]
        for name, _ in calls:
            args += ["--indicator", name]
        out = subprocess.run(args, capture_output=True, check=True).stdout.decode()
    bars, feats, signals, indicators = {}, {}, [], {}
    for line in out.splitlines():
        e = json.loads(line)
        p = e["payload"]
        if e["type"] == "signal":
            signals.append(p)
            continue
        if e["type"] == "indicators":
            indicators.setdefault(p["symbol"], []).append(p)
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
        rows = indicators.get(symbol, [])
        assert [b["start"] for b in bs] == [r["ts"] for r in rows], "indicator rows must follow bars one to one"
        columns = {"open": o, "high": h, "low": l, "close": c, "volume": v}
        price_scale = float(np.max(h))
        for name, reference in calls:
            worst = max(worst, compare([r["values"][name] for r in rows], list(reference(columns)), f"{symbol} {name}",
                                       errors, price_scale))
            values += len(rows)
    missing = sorted(set(SHAPES) - set(bars))
    if missing:
        errors.append(f"no bars for {missing}")
    # The false long of a collapsed RSI: "RSI crossed back above 30 (0.0 → …)".
    for signal in signals:
        if signal["strategy"] == "rsi_reversal" and ("(0.0 " in signal["reason"] or "(0 " in signal["reason"]):
            errors.append(f"rsi_reversal cites an RSI of 0: {signal['symbol']} at {signal['ts']}: {signal['reason']}")
    print(f"replay vs TA-Lib: {sum(len(b) for b in bars.values())} bars of {len(bars)} symbols, "
          f"{len(calls)} parameterised calls ({', '.join(n for n, _ in calls)}), {values} values, "
          f"worst relative error {worst:.3g}, {len(signals)} signals, {len(errors)} disagreements")
    for e in errors[:10]:
        print("  " + e)
    sys.exit(1 if errors or values == 0 else 0)


if __name__ == "__main__":
    main()
