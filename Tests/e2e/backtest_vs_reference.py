"""End to end: `dongfeng backtest` against backtesting.py (PyPI `backtesting`, pinned in Tests/run.sh),
an established Python backtester, on the same OHLCV files and the same strategies: every trade's
direction, entry and exit dates, fill prices (1e-12 relative), return (1e-9 relative, 1e-12
absolute) and exit reason, and each run's total return (1e-6 relative).

Data: seeded daily random walks of 1,500 weekday bars, one symbol per CSV file
(`Date,Open,High,Low,Close,Volume`, dates `YYYY-MM-DD`, as pandas exports them): a trending walk
near 100, a choppy mean-reverting one near 40, a low-priced one near 0.05 and a high-priced one near
50,000. Opens gap from the previous close (now and then by several percent, so stops and takes
get gapped through); high ≥ max(open, close), low ≤ min(open, close), volume positive.

Cases on every file, parameters drawn from the seed:
- `sma_cross` (rule, --long-only): crosses_above(sma(close,fast), sma(close,slow)), exit_when the
  mirror cross, for three (fast, slow) pairs;
- `macd_cross` (built-in, TA-Lib MACD(close,12,26,9)): stop and reverse, and again --long-only;
- `rsi_hold` (rule): crosses_above(rsi(close,14), 30), hold_bars N, exit_when rsi(close,14) > L;
- `sma_stop_take` (rule, long) and `sma_short_stop_take` (rule, short): the SMA cross with
  stop_pct / take_pct.

The reference strategies are backtesting.py Strategy subclasses whose conditions are written in
next() from TA-Lib arrays (self.I), not with backtesting.lib.crossover(), which wants a strict <
on the previous bar where ours has ≤. backtesting.py is run as:
- trade_on_close=False: an order placed in next() on bar i's close fills at bar i+1's open; one
  placed on the last bar never fills. exclusive_orders=True: a new order first closes the open
  trade at that same open (stop and reverse); Position.close() alone closes (long-only, exits).
- No costs (commission = spread = 0). Whole-equity orders (the default size, 1 - 2.2e-16 of the
  available cash) in whole units, with a cash of 1e15 times the file's highest price, so the
  unit rounding stays below 1e-12 of equity per trade (checked: the compounded trade returns
  equal `Return [%]` within 1e-9). Not FractionalBacktest: it scales the prices and back.
- finalize_trades=False: backtesting.py would close an open trade at the last bar's open; ours
  closes at the last close. A trade still open at the end is taken from the strategy's open trades,
  valued at the last close (Trade.pl_pct), which is also where `Equity Final [$]` marks it.
- stop_pct / take_pct: backtesting.py takes absolute SL/TP prices when the order is placed, but
  ours are percent of the fill, the next open. The reference reads that open from the full Open
  array (its only look-ahead, for the levels alone, computed as ours: open * (1 ∓ pct / 100)) and
  sets them on the order with Order._replace, past buy()'s check against the signal bar's close,
  which a gapping open can fail. The broker then checks them from the entry bar on: SL first (a
  stop and a take in one bar: the stop), each at its level or at the open when the bar opens
  beyond it.
- next() starts after the indicators' NaN warm-up (backtesting.py skips those bars); every
  condition here needs the previous bar's value too, so no signal is lost.

Usage: backtest_vs_reference.py DONGFENG_BINARY [SEED]  (exit 0 when all agree; a line per case)
       backtest_vs_reference.py --reference-only [SEED]  (just the reference: trades, return)"""
import datetime
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import talib
from backtesting import Backtest, Strategy

BARS = 1500
BUILTINS = ["rsi_reversal", "macd_cross", "bollinger", "momentum_breakout", "volume_spike", "vwap_deviation"]

# name: (start price, decimals, drift per day, volatility per day, pull back to the start per day)
SHAPES = {
    "TREND": (100.0, 2, 0.0009, 0.015, 0.0),
    "CHOP": (40.0, 2, 0.0, 0.02, 0.08),
    "PENNY": (0.05, 5, 0.0, 0.03, 0.01),
    "HUGE": (50000.0, 2, 0.0002, 0.035, 0.004),
}


def make_bars(path, shape, rng):
    """A daily walk on weekdays; returns the rows as floats parsed from the written text."""
    start, decimals, drift, vol, pull = SHAPES[shape]
    tick = 10.0 ** -decimals
    fmt = lambda x: f"{max(x, tick):.{decimals}f}"
    day = datetime.date(2018, 1, 1)
    close = start
    rows = []
    with open(path, "w") as f:
        f.write("Date,Open,High,Low,Close,Volume\n")
        for _ in range(BARS):
            while day.weekday() >= 5:
                day += datetime.timedelta(days=1)
            big = rng.random() < 0.04
            o = close * math.exp(rng.gauss(0, (2.5 if big else 0.25) * vol))
            c = o * math.exp(drift + rng.gauss(0, vol) - pull * math.log(o / start))
            h = max(o, c) * math.exp(abs(rng.gauss(0, 0.4 * vol)))
            lo = min(o, c) * math.exp(-abs(rng.gauss(0, 0.4 * vol)))
            # Rounding is monotonic, so high ≥ max(open, close) ≥ min(open, close) ≥ low holds after it.
            text = [fmt(o), fmt(h), fmt(lo), fmt(c)]
            volume = rng.randint(1, 5000) * 100
            f.write(f"{day.isoformat()},{','.join(text)},{volume}\n")
            o, h, lo, c = (float(t) for t in text)
            assert h >= max(o, c) and lo <= min(o, c) and lo > 0
            rows.append((day, o, h, lo, c, float(volume)))
            close = c
            day += datetime.timedelta(days=1)
    return rows


def frame(rows):
    return pd.DataFrame({"Open": [r[1] for r in rows], "High": [r[2] for r in rows], "Low": [r[3] for r in rows],
                         "Close": [r[4] for r in rows], "Volume": [r[5] for r in rows]},
                        index=pd.DatetimeIndex([pd.Timestamp(r[0]) for r in rows]))


def crosses_above(a, b):
    """Ours: a ≤ b on the previous bar and a > b now (NaN: no)."""
    return bool(a[-2] <= b[-2] and a[-1] > b[-1])


def crosses_below(a, b):
    return bool(a[-2] >= b[-2] and a[-1] < b[-1])


class Reference(Strategy):
    """One position; a signal on this close orders for the next open. Subclasses give signal()
    (+1 long, -1 short, 0) and exit_rule() (exit_when's level on this close)."""
    long_only = False
    hold_bars = 0
    stop_pct = 0.0
    take_pct = 0.0

    def init(self):
        self.opens = np.array(self.data.Open, dtype=float)  # full length here; for SL/TP levels only
        self.reasons = {}  # entry bar → why we closed it (stop/take/end are found later)
        self.indicators()

    def exit_rule(self):
        return False

    def next(self):
        i = len(self.data) - 1
        d = self.signal()
        if self.position:
            trade = self.trades[0]
            reason = None
            if self.hold_bars and i - trade.entry_bar + 1 >= self.hold_bars:
                reason = "hold_bars"
            elif self.exit_rule():
                reason = "exit_when"
            if d and (d > 0) != trade.is_long:
                reason = "signal"
                if self.long_only and d < 0:
                    self.position.close()
                else:
                    self.enter(d, i)  # exclusive_orders: closes the trade at the same open first
            elif reason:
                self.position.close()
            if reason:
                self.reasons[trade.entry_bar] = reason
        elif d and not (self.long_only and d < 0):
            self.enter(d, i)

    def enter(self, d, i):
        order = self.buy() if d > 0 else self.sell()
        if (self.stop_pct or self.take_pct) and i + 1 < len(self.opens):
            entry = self.opens[i + 1]
            long = d > 0
            if self.stop_pct:
                order._replace(sl_price=entry * (1 - self.stop_pct / 100 if long else 1 + self.stop_pct / 100))
            if self.take_pct:
                order._replace(tp_price=entry * (1 + self.take_pct / 100 if long else 1 - self.take_pct / 100))


class SmaCross(Reference):
    fast = 10
    slow = 30
    direction = 1  # +1: long on the cross up; -1: short on the cross down
    exit_on_cross = True

    def indicators(self):
        self.f = self.I(talib.SMA, self.data.Close, self.fast)
        self.s = self.I(talib.SMA, self.data.Close, self.slow)

    def signal(self):
        if self.direction > 0:
            return 1 if crosses_above(self.f, self.s) else 0
        return -1 if crosses_below(self.f, self.s) else 0

    def exit_rule(self):
        return self.exit_on_cross and crosses_below(self.f, self.s)


class MacdCross(Reference):
    def indicators(self):
        self.macd, self.macd_signal, _ = self.I(talib.MACD, self.data.Close, 12, 26, 9)

    def signal(self):
        if crosses_above(self.macd, self.macd_signal):
            return 1
        return -1 if crosses_below(self.macd, self.macd_signal) else 0


class RsiHold(Reference):
    exit_level = 50.0

    def indicators(self):
        self.rsi = self.I(talib.RSI, self.data.Close, 14)

    def signal(self):
        return 1 if self.rsi[-2] <= 30 and self.rsi[-1] > 30 else 0

    def exit_rule(self):
        return bool(self.rsi[-1] > self.exit_level)


def make_cases(rng):
    """(label, strategy name, config entry or None for a built-in, long-only, reference class, params)."""
    cases = []
    pairs = set()
    while len(pairs) < 3:
        fast = rng.randint(3, 20)
        pairs.add((fast, rng.randint(fast + 5, 60)))
    sma_when = "crosses_above(sma(close,fast), sma(close,slow))"
    sma_down = "crosses_below(sma(close,fast), sma(close,slow))"
    for fast, slow in sorted(pairs):
        rule = {"name": "sma_cross", "enabled": True, "params": {"fast": fast, "slow": slow}, "when": sma_when,
                "exit_when": sma_down, "direction": "long", "strength": 0.5}
        cases.append((f"sma_cross {fast}/{slow} long-only", "sma_cross", rule, True, SmaCross,
                      dict(fast=fast, slow=slow, long_only=True)))
    cases.append(("macd_cross reversing", "macd_cross", None, False, MacdCross, {}))
    cases.append(("macd_cross long-only", "macd_cross", None, True, MacdCross, dict(long_only=True)))
    hold, level = rng.randint(2, 10), rng.choice([45, 50, 55, 60])
    rule = {"name": "rsi_hold", "enabled": True, "when": "crosses_above(rsi(close,14), 30)",
            "exit_when": f"rsi(close,14) > {level}", "hold_bars": hold, "direction": "long", "strength": 0.5}
    cases.append((f"rsi_hold {hold} bars, exit rsi>{level}", "rsi_hold", rule, False, RsiHold,
                  dict(hold_bars=hold, exit_level=float(level))))
    fast = rng.randint(3, 12)
    slow = rng.randint(fast + 3, 40)
    for name, direction, when in (("sma_stop_take", "long", sma_when), ("sma_short_stop_take", "short", sma_down)):
        stop, take = round(rng.uniform(1, 4), 2), round(rng.uniform(1.5, 8), 2)
        rule = {"name": name, "enabled": True, "params": {"fast": fast, "slow": slow}, "when": when,
                "direction": direction, "strength": 0.5, "stop_pct": stop, "take_pct": take}
        cases.append((f"{name} {fast}/{slow} stop {stop}% take {take}%", name, rule, False, SmaCross,
                       dict(fast=fast, slow=slow, direction=1 if direction == "long" else -1, exit_on_cross=False,
                            stop_pct=stop, take_pct=take)))
    return cases


def strategies_json(name, rule):
    return {"strategies": {b: {"enabled": b == name and rule is None} for b in BUILTINS},
            "rules": [rule] if rule is not None else []}


def reference(rows, cls, params):
    """backtesting.py's trades, as [direction, entry date, entry price, exit date, exit price,
    return, exit reason], and its total return (`Return [%]` / 100)."""
    data = frame(rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bt = Backtest(data, cls, cash=1e15 * float(data.High.max()), commission=0, spread=0,
                      trade_on_close=False, exclusive_orders=True, finalize_trades=False)
        stats = bt.run(**params)
    odd = [str(w.message) for w in caught
           if "remain open" not in str(w.message) and not issubclass(w.category, (DeprecationWarning, FutureWarning))]
    if odd:
        raise RuntimeError(f"backtesting.py warned: {odd[:3]}")
    strategy = stats["_strategy"]
    dates = [r[0].isoformat() for r in rows]
    opens = [r[1] for r in rows]
    trades = []
    for t in stats["_trades"].itertuples():
        long = t.Size > 0
        reason = strategy.reasons.get(t.EntryBar)
        if reason is None:  # the broker's SL or TP order
            reason = "stop" if (t.ExitPrice < t.EntryPrice) == long else "take"
        trades.append(["long" if long else "short", dates[t.EntryBar], float(t.EntryPrice), dates[t.ExitBar],
                       float(t.ExitPrice), float(t.ReturnPct), reason])
    last = len(rows) - 1
    for t in strategy.trades:  # still open: valued at the last close
        trades.append(["long" if t.is_long else "short", dates[t.entry_bar], float(t.entry_price), dates[last],
                       rows[last][4], float(t.pl_pct), "end"])
    total = float(stats["Return [%]"]) / 100
    compounded = math.prod(1 + t[5] for t in trades) - 1
    drift = abs((1 + compounded) / (1 + total) - 1)
    gapped = sum(1 for t in trades if t[6] in ("stop", "take") and t[4] == opens[dates.index(t[3])])
    return trades, total, drift, gapped


def ts_date(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).date().isoformat()


def close(a, b, rel, floor=0.0):
    return a == b or abs(a - b) <= max(rel * abs(b), floor)


def trade_diff(ours, theirs):
    """What differs between two trades in the reference's shape, or None."""
    names = ["direction", "entry date", "entry price", "exit date", "exit price", "return", "exit reason"]
    bad = []
    for k, name in enumerate(names):
        a, b = ours[k], theirs[k]
        if k in (2, 4):
            same = close(a, b, 1e-12)
        elif k == 5:
            same = close(a, b, 1e-9, 1e-12)
        elif k == 6:
            same = a is None or a == b  # exit_reason is compared when our JSON has it
        else:
            same = a == b
        if not same:
            bad.append(name)
    return bad or None


def run_ours(binary, tmp, csv, name, rule, long_only):
    sfile = os.path.join(tmp, f"strategies-{name}.json")
    out = os.path.join(tmp, "out.json")
    with open(sfile, "w") as f:
        json.dump(strategies_json(name, rule), f)
    args = [binary, "backtest", "--input", csv, "--strategies-file", sfile, "--strategies", name]
    args += ["--long-only"] if long_only else []
    args += ["--json", out]
    p = subprocess.run(args, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {p.returncode}: {p.stderr.decode()[-800:]}")
    with open(out) as f:
        doc = json.load(f)
    trades = [[t["direction"], ts_date(t["entry_ts"]), float(t["entry_price"]), ts_date(t["exit_ts"]),
               float(t["exit_price"]), float(t["return"]), t.get("exit_reason")]
              for t in doc.get("trades", []) if t["strategy"] == name]
    trades.sort(key=lambda t: t[1])
    metrics = [m for m in doc.get("metrics", []) if m["strategy"] == name]
    total = float(metrics[0]["total_return"]) if metrics else None
    return trades, total, len({t["symbol"] for t in doc.get("trades", []) if t["strategy"] == name})


def main():
    args = sys.argv[1:]
    reference_only = "--reference-only" in args
    args = [a for a in args if a != "--reference-only"]
    if not reference_only and not args:
        sys.exit(__doc__.rsplit("Usage: ", 1)[1])
    binary = None if reference_only else args.pop(0)
    seed = int(args[0]) if args else 7
    rng = random.Random(seed)
    cases = make_cases(random.Random(seed * 7919))
    started = time.time()
    failures, compared, worst_drift = 0, 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for shape in SHAPES:
            csv = os.path.join(tmp, f"{shape}.csv")
            rows = make_bars(csv, shape, rng)
            for label, name, rule, long_only, cls, params in cases:
                theirs, their_total, drift, gapped = reference(rows, cls, params)
                worst_drift = max(worst_drift, drift)
                reasons = {}
                for t in theirs:
                    reasons[t[6]] = reasons.get(t[6], 0) + 1
                summary = (f"{shape:5} {label:52} reference: {len(theirs):3} trades, return {their_total:+.6%} "
                           f"({', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))}"
                           f"{f'; {gapped} gapped through' if gapped else ''})")
                problems = []
                if drift > 1e-9:
                    problems.append(f"reference's compounded trade returns are {drift:.3g} off its Return [%]")
                if not reference_only:
                    try:
                        ours, our_total, symbols = run_ours(binary, tmp, csv, name, rule, long_only)
                    except (RuntimeError, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
                        print(summary + "; ours: failed")
                        print(f"    {type(e).__name__}: {e}")
                        failures += 1
                        continue
                    compared += 1
                    if len(ours) != len(theirs):
                        problems.append(f"{len(ours)} trades against the reference's {len(theirs)}")
                    if symbols > 1:
                        problems.append(f"trades under {symbols} symbols from one file")
                    for k, (a, b) in enumerate(zip(ours, theirs)):
                        bad = trade_diff(a, b)
                        if bad:
                            problems.append(f"trade {k} differs in {', '.join(bad)}:\n      ours      {a}\n      reference {b}")
                            break
                    if len(ours) != len(theirs) and not any(p.startswith("trade ") for p in problems):
                        k = min(len(ours), len(theirs))
                        problems.append(f"first unmatched trade {k}:\n      ours      {ours[k] if k < len(ours) else None}"
                                        f"\n      reference {theirs[k] if k < len(theirs) else None}")
                    if our_total is None:
                        problems.append("no metrics row")
                    elif not close(our_total, their_total, 1e-6, 1e-12):
                        problems.append(f"total return {our_total!r} against the reference's {their_total!r}")
                    summary += f"; ours: {len(ours)} trades, return {our_total if our_total is None else f'{our_total:+.6%}'}"
                    summary += " — DIFFERS" if problems else " — agree"
                print(summary)
                for p in problems:
                    print("    " + p)
                failures += bool(problems)
    runs = len(SHAPES) * len(cases)
    what = "reference only" if reference_only else f"{compared} runs compared"
    print(f"backtest vs backtesting.py: {len(SHAPES)} files of {BARS} bars, {runs} cases, {what}, "
          f"unit rounding ≤ {worst_drift:.2g} of equity, {failures} failing, {time.time() - started:.1f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
