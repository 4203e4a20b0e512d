"""backtesting.py on an OHLCV file, for Benchmarks/research.sh: the SMA crossover of
Tests/e2e/backtest_vs_reference.py (the strategy and settings whose trades equal ours), timed.
Usage: research_peer.py BARS.csv FAST SLOW. Prints "backtesting.py: N bars, T trades in S s (R bars/s)"
(load with pandas, and the run, timed apart)."""
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from backtest_vs_reference import Backtest, SmaCross  # noqa: E402
import pandas as pd  # noqa: E402


def main():
    path, fast, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    started = time.perf_counter()
    data = pd.read_csv(path, index_col=0, parse_dates=True)
    loaded = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(data, SmaCross, cash=1e15 * float(data.High.max()), commission=0, spread=0,
                      trade_on_close=False, exclusive_orders=True, finalize_trades=False)
        stats = bt.run(fast=fast, slow=slow, long_only=True)
    done = time.perf_counter()
    n = len(data)
    trades = len(stats["_trades"]) + len(stats["_strategy"].trades)
    print(f"backtesting.py: {n} bars, {trades} trades in {done - started:.3f} s "
          f"(load {loaded - started:.3f} s, run {done - loaded:.3f} s; {n / (done - started):.0f} bars/s)")


if __name__ == "__main__":
    main()
