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


def main(out_dir):
    specs = [("trending", 300, 7), ("flat", 120, 11), ("gapped", 400, 13), ("long", 100_000, 17)]
    for kind, count, seed in specs:
        bars = series(kind, count, seed)
        exp = expected(bars)
        doc = {"name": kind, "count": count, "seed": seed, "talib": talib.__version__}
        if kind == "long":
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


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
