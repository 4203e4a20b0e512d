"""Regenerates the indicator fixtures with TA-Lib (the reference for every indicator).

Run: bash Tests/Fixtures/indicators/generate.sh   (makes a venv with the ta-lib wheel).
Series are produced by a small integer generator that the Swift tests reproduce exactly
(prices in cents, volumes in lots), so the 100k-bar series need not be committed as input:
only its expected outputs are, sampled every 100th bar plus the last 100 bars.
"""
import json
import math
import sys

import numpy as np
import talib


class LCG:
    """64-bit LCG (Knuth MMIX constants); the Swift tests use the same one."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self, n):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return (self.state >> 33) % n


def series(kind, count, seed):
    """Bars as (open, high, low, close, volume, vwap) floats built from integer steps."""
    rng = LCG(seed)
    cents = 168850
    bars = []
    for i in range(count):
        if kind == "trending":
            step = rng.next(41) - 12          # drifts up
        elif kind == "flat":
            step = 0 if i < count // 2 else rng.next(3) - 1   # constant, then barely moving
        elif kind == "gapped":
            step = rng.next(21) - 10
            if i % 37 == 0:
                step += (rng.next(2) * 2 - 1) * 5000    # ±50.00 gaps
        else:  # random walk
            step = rng.next(201) - 100
        open_c = cents
        cents = max(100, cents + step)
        high_c = max(open_c, cents) + rng.next(50)
        low_c = max(50, min(open_c, cents) - rng.next(50))
        volume = 0 if kind == "flat" and i < count // 2 else 100 * (1 + rng.next(500))
        o, h, l, c = open_c / 100.0, high_c / 100.0, low_c / 100.0, cents / 100.0
        vwap = (h + l + c) / 3.0
        bars.append((o, h, l, c, float(volume), vwap))
    return bars


def shaped(plan, seed, start, divisor):
    """Bars from a plan of (kind, bars) stretches, prices as integer units over `divisor` (so a
    0.01 stock, a 100.00 one and a 100,000.00 one get the same shapes at their own magnitude):
    "walk" moves every bar and trades a range, "flat" repeats the last close exactly (open = high
    = low = close, a feed stuck on its last price, still trading volume), "tiny" is one bar one
    unit away from the flat price, then flat again. Returns (bars, integer rows): the rows
    [open, high, low, close, volume] in units are what the fixture stores, since a decimal in
    JSON may be read back an ulp away by a parser that does not round correctly."""
    rng = LCG(seed)
    units = start
    bars, rows = [], []
    for kind, count in plan:
        for _ in range(count):
            open_u = units
            if kind == "walk":
                units = max(10, units + rng.next(41) - 20)
                high_u = max(open_u, units) + rng.next(15)
                low_u = max(1, min(open_u, units) - rng.next(15))
            elif kind == "tiny":
                units += 1
                high_u, low_u = units, open_u
            else:
                high_u = low_u = units
            o, h, l, c = open_u / divisor, high_u / divisor, low_u / divisor, units / divisor
            volume = 100 * (1 + rng.next(500))
            bars.append((o, h, l, c, float(volume), (h + l + c) / 3.0))
            rows.append([open_u, high_u, low_u, units, volume])
            if kind == "tiny":
                kind = "flat"
    return bars, rows


# Long flat stretches (issue: RSI fell to 0 after ~200 flat bars and fired a false long), from
# the first bar and after a move, with one tiny move inside, at three magnitudes.
SHAPES = {
    "flat_after_move": [("walk", 120), ("flat", 600), ("walk", 60), ("flat", 520), ("walk", 40)],
    "flat_from_start": [("flat", 300), ("walk", 80), ("flat", 150)],
    "tiny_move_in_flat": [("walk", 60), ("flat", 500), ("tiny", 1), ("flat", 500), ("walk", 30)],
}
MAGNITUDES = {"penny": (1500, 100_000), "dollar": (10000, 100), "huge": (10_000_000, 100)}


def window_vwap(pv, v, n):
    out = [None] * len(v)
    for i in range(n - 1, len(v)):
        den = math.fsum(v[i - n + 1:i + 1])
        out[i] = math.fsum(pv[i - n + 1:i + 1]) / den if den != 0 else None
    return out


def clean(values):
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v) for v in values]


def expected(bars):
    o, h, l, c, v, w = (np.array(col, dtype=np.float64) for col in zip(*bars))
    macd, signal, hist = talib.MACD(c, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(c, 20, 2.0, 2.0, talib.MA_Type.SMA)
    vol_sma = talib.SMA(v, 20)
    vol_sd = talib.STDDEV(v, 20, 1.0)
    vz = [None if (math.isnan(s) or sd == 0 or math.isnan(sd)) else (x - s) / sd for x, s, sd in zip(v, vol_sma, vol_sd)]
    ret = [None] + [c[i] / c[i - 1] - 1.0 for i in range(1, len(c))]
    return {
        "sma_20": clean(talib.SMA(c, 20)),
        "ema_12": clean(talib.EMA(c, 12)),
        "ema_26": clean(talib.EMA(c, 26)),
        "ema_50": clean(talib.EMA(c, 50)),
        "rsi_14": clean(talib.RSI(c, 14)),
        "macd": clean(macd),
        "macd_signal": clean(signal),
        "macd_hist": clean(hist),
        "bb_upper": clean(upper),
        "bb_middle": clean(middle),
        "bb_lower": clean(lower),
        "atr_14": clean(talib.ATR(h, l, c, 14)),
        "stddev_20": clean(talib.STDDEV(c, 20, 1.0)),
        "ret_1": clean(ret),
        "vwap_20": window_vwap(list(w * v), list(v), 20),
        "volume_z_20": vz,
    }


# Parameterised calls rules may use (`sma(close,10)`…), each against TA-Lib where TA-Lib has the
# function; vwap, zscore and prev by their definitions. Odd periods, the slow MACD period given
# first (TA-Lib swaps them), fields other than close, and periods of 1 where TA-Lib allows them.
CALLS = [
    "sma(close,10)", "sma(high,3)", "sma(volume,50)", "ema(close,30)", "ema(volume,7)", "ema(low,2)",
    "wma(close,10)", "wma(low,2)", "wma(close,200)", "rsi(close,7)", "rsi(close,30)", "rsi(open,2)",
    "macd(close,5,35,5)", "macd_signal(close,5,35,5)", "macd_hist(close,5,35,5)",
    "macd(close,26,12,9)", "macd_signal(close,26,12,9)", "macd_hist(close,26,12,9)",
    "bb_upper(close,10,1.5)", "bb_middle(close,10,1.5)", "bb_lower(close,10,1.5)", "bb_upper(high,30,3)",
    "stddev(close,5)", "stddev(volume,40)", "atr(7)", "atr(1)", "atr(50)", "willr(14)", "willr(2)", "obv()",
    "roc(close,10)", "roc(close,1)", "mom(close,3)", "mom(volume,1)", "highest(high,20)", "highest(close,2)",
    "lowest(low,20)", "lowest(close,300)", "vwap(5)", "vwap(1)", "zscore(close,20)", "zscore(volume,8)",
    "prev(close,3)", "prev(high,1)", "adx(14)", "adx(5)", "cci(20)", "cci(7)", "mfi(14)", "mfi(3)",
    "stoch_k(14,3,3)", "stoch_d(14,3,3)", "stoch_k(5,1,4)", "stoch_d(9,6,2)",
]


def call_values(call, bars):
    """The expected series of one call over `bars`, None while warming up."""
    o, h, l, c, v, w = (np.array(col, dtype=np.float64) for col in zip(*bars))
    fields = {"open": o, "high": h, "low": l, "close": c, "volume": v, "vwap": w}
    name, args = call[:-1].split("(")
    args = [a for a in args.split(",") if a]
    x = fields.get(args[0]) if args and args[0] in fields else None
    nums = [float(a) for a in args if a not in fields]
    n = int(nums[0]) if nums else 0
    if name in ("macd", "macd_signal", "macd_hist"):
        out = talib.MACD(x, int(nums[0]), int(nums[1]), int(nums[2]))
        return clean(out[("macd", "macd_signal", "macd_hist").index(name)])
    if name.startswith("bb_"):
        out = talib.BBANDS(x, n, nums[1], nums[1], talib.MA_Type.SMA)
        return clean(out[("bb_upper", "bb_middle", "bb_lower").index(name)])
    simple = {"sma": talib.SMA, "ema": talib.EMA, "wma": talib.WMA, "rsi": talib.RSI, "roc": talib.ROC,
              "mom": talib.MOM, "highest": talib.MAX, "lowest": talib.MIN}
    if name in simple:
        return clean(simple[name](x, n))
    if name == "stddev":
        return clean(talib.STDDEV(x, n, 1.0))
    if name == "atr":
        return clean(talib.ATR(h, l, c, n))
    if name == "willr":
        return clean(talib.WILLR(h, l, c, n))
    if name == "obv":
        return clean(talib.OBV(c, v))
    if name == "vwap":
        return window_vwap(list(w * v), list(v), n)
    if name == "zscore":
        mean, sd = talib.SMA(x, n), talib.STDDEV(x, n, 1.0)
        return [None if (math.isnan(m) or math.isnan(d) or d == 0) else (xi - m) / d for xi, m, d in zip(x, mean, sd)]
    if name == "adx":
        return clean(talib.ADX(h, l, c, n))
    if name == "cci":
        return clean(talib.CCI(h, l, c, n))
    if name == "mfi":
        return clean(talib.MFI(h, l, c, v, n))
    if name in ("stoch_k", "stoch_d"):
        k, d = talib.STOCH(h, l, c, n, int(nums[1]), talib.MA_Type.SMA, int(nums[2]), talib.MA_Type.SMA)
        return clean(k if name == "stoch_k" else d)
    if name == "prev":
        return [None if i < n else float(x[i - n]) for i in range(len(x))]
    raise ValueError(call)


def calls_fixture(out_dir):
    """calls.json: every call of CALLS over a 1,000-bar random walk (reproduced by the tests from
    its seed), a gapped series, a long flat stretch with one tiny move at 100,000.00, and long
    flat stretches after moves at 0.01."""
    cases = []
    walk = series("long", 1000, 29)
    cases.append({"name": "walk", "seed": 29, "count": 1000, "expected": {k: call_values(k, walk) for k in CALLS}})
    gapped = series("gapped", 300, 13)
    cases.append({"name": "gapped", "bars": gapped, "expected": {k: call_values(k, gapped) for k in CALLS}})
    for shape, magnitude in (("tiny_move_in_flat", "huge"), ("flat_after_move", "penny")):
        bars, units = shaped(SHAPES[shape], 23, *MAGNITUDES[magnitude])
        cases.append({"name": f"{shape}_{magnitude}", "units": units, "divisor": MAGNITUDES[magnitude][1],
                      "expected": {k: call_values(k, bars) for k in CALLS}})
    with open(f"{out_dir}/calls.json", "w") as f:
        json.dump({"talib": talib.__version__, "calls": CALLS, "cases": cases}, f, separators=(",", ":"))
    print(f"calls: {len(CALLS)} calls × {len(cases)} series")


def main(out_dir):
    specs = [("trending", 300, 7), ("flat", 120, 11), ("gapped", 400, 13), ("long", 100_000, 17)]
    for shape in SHAPES:
        for magnitude in MAGNITUDES:
            specs.append((f"{shape}_{magnitude}", sum(n for _, n in SHAPES[shape]), 23))
    for kind, count, seed in specs:
        units = None
        if kind.startswith(tuple(SHAPES)):
            shape, magnitude = kind.rsplit("_", 1)
            bars, units = shaped(SHAPES[shape], seed, *MAGNITUDES[magnitude])
        else:
            bars = series(kind, count, seed)
        exp = expected(bars)
        doc = {"name": kind, "count": count, "seed": seed, "talib": talib.__version__}
        if units is not None:
            doc["rows"] = list(range(count))
            doc["divisor"] = MAGNITUDES[kind.rsplit("_", 1)[1]][1]
            doc["units"] = units
            doc["expected"] = exp
        elif kind == "long":
            rows = sorted(set(range(0, count, 100)) | set(range(count - 100, count)))
            doc["rows"] = rows
            doc["expected"] = {k: [vals[i] for i in rows] for k, vals in exp.items()}
        else:
            doc["rows"] = list(range(count))
            doc["bars"] = bars
            doc["expected"] = exp
        with open(f"{out_dir}/{kind}.json", "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        print(f"{kind}: {count} bars")
    calls_fixture(out_dir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
