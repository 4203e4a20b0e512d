"""The backtest report in a real browser: `dongfeng backtest --html` on two symbols of seeded daily
OHLCV bars (one file with a Symbol column), opened from disk in Debian's headless chromium
(Selenium, /usr/bin/chromedriver; the Browser and Run helpers of dashboard_test.py).

Usage: report_test.py DONGFENG_BINARY OUTPUT_DIR
Checks: the page loads with no console errors and requests nothing (no scripts, fonts or
images: the resource timing list is empty); for each symbol the price, equity and drawdown charts
draw (non-empty boxes, lines with points inside the chart), the price chart marks every trade of
the JSON output for that symbol (one entry triangle and one exit circle each), the equity chart
has one line per strategy plus buy-and-hold, and the hit-rate chart has a bar per strategy and
horizon with signals; the metrics table has a row per strategy and symbol plus buy-and-hold.
Prints one line per check and "N passed, M failed"; a full-page screenshot goes to OUTPUT_DIR."""
import json
import os
import random
import subprocess
import sys
import tempfile
import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_test import Browser, Run, require  # noqa: E402

STRATEGIES = {
    "strategies": {"rsi_reversal": {"enabled": False}, "macd_cross": {"enabled": True}, "bollinger": {"enabled": False},
                   "momentum_breakout": {"enabled": False}, "volume_spike": {"enabled": False},
                   "vwap_deviation": {"enabled": False}},
    "rules": [{"name": "sma_cross", "params": {"fast": 10, "slow": 30},
               "when": "crosses_above(sma(close,fast), sma(close,slow))",
               "exit_when": "crosses_below(sma(close,fast), sma(close,slow))", "direction": "long"}],
}


def write_bars(path, seed=11):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("Symbol,Date,Open,High,Low,Close,Volume\n")
        for symbol, price in [("ALPHA", 120.0), ("BETA", 3.5)]:
            day = datetime.date(2019, 1, 1)
            for _ in range(900):
                while day.weekday() >= 5:
                    day += datetime.timedelta(days=1)
                o = price * (1 + rng.gauss(0, 0.004))
                c = o * (1 + rng.gauss(0.0002, 0.015))
                h = max(o, c) * (1 + abs(rng.gauss(0, 0.004)))
                lo = min(o, c) * (1 - abs(rng.gauss(0, 0.004)))
                f.write(f"{symbol},{day},{o:.4f},{h:.4f},{lo:.4f},{c:.4f},{rng.randint(1000, 90000)}\n")
                price = c
                day += datetime.timedelta(days=1)


def main():
    binary, out_dir = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="dongfeng-report-")
    bars, strategies = os.path.join(work, "two.csv"), os.path.join(work, "strategies.json")
    write_bars(bars)
    with open(strategies, "w") as f:
        json.dump(STRATEGIES, f)
    html, out_json = os.path.join(work, "report.html"), os.path.join(work, "out.json")
    done = subprocess.run([binary, "backtest", "--input", bars, "--strategies-file", strategies, "--json", out_json,
                           "--html", html], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        print(done.stdout, done.stderr)
        print("0 passed, 1 failed")
        return 1
    result = json.load(open(out_json))
    run = Run()
    b = Browser()
    try:
        b.driver.get("file://" + html)

        def loads():
            require(b.js("return document.readyState") == "complete", "page did not finish loading")
            resources = b.js("return performance.getEntriesByType('resource').map(e => e.name)")
            require(resources == [], f"the page requested {resources}")
            return b.js("return document.title")

        def charts():
            found = b.js("""return [...document.querySelectorAll('svg[data-chart]')].map(s => {
                const r = s.getBoundingClientRect();
                const lines = [...s.querySelectorAll('polyline')].map(p => p.points.numberOfItems);
                const vb = s.viewBox.baseVal;
                const inside = [...s.querySelectorAll('polyline')].every(p => [...Array(p.points.numberOfItems).keys()]
                    .every(i => { const q = p.points.getItem(i); return q.x >= 0 && q.x <= vb.width && q.y >= 0 && q.y <= vb.height; }));
                return {name: s.dataset.chart, w: r.width, h: r.height, lines, inside,
                        entries: s.querySelectorAll('.entry').length, exits: s.querySelectorAll('.exit').length,
                        rects: s.querySelectorAll('rect').length};
            })""")
            names = [c["name"] for c in found]
            require(names.count("price") == 2 and names.count("equity") == 2 and names.count("drawdown") == 2
                    and names.count("hitrate") == 1, f"charts: {names}")
            for c in found:
                require(c["w"] > 300 and c["h"] > 80, f"{c['name']} chart is {c['w']}x{c['h']}")
                require(c["inside"], f"{c['name']} chart has points outside its box")
            by_symbol = {}
            for t in result["trades"]:
                by_symbol[t["symbol"]] = by_symbol.get(t["symbol"], 0) + 1
            prices = [c for c in found if c["name"] == "price"]
            for symbol, c in zip(sorted(by_symbol), prices):
                require(c["entries"] == by_symbol[symbol] and c["exits"] == by_symbol[symbol],
                        f"{symbol}: {c['entries']} entries and {c['exits']} exits marked, {by_symbol[symbol]} trades")
                require(c["lines"] and c["lines"][0] > 100, f"{symbol}: price line has {c['lines']} points")
            for c in found:
                if c["name"] == "equity":
                    require(len(c["lines"]) == len(result["settings"]["strategies"]) + 1, f"equity lines {c['lines']}")
                if c["name"] == "drawdown":
                    require(len(c["lines"]) == len(result["settings"]["strategies"]), f"drawdown lines {c['lines']}")
            cards = [s for s in result["scorecard"] if s["symbol"] is None]
            with_signals = sum(1 for s in cards for h in s["horizons"] if h["hit_rate"] is not None)
            hit = [c for c in found if c["name"] == "hitrate"][0]
            require(hit["rects"] == with_signals, f"hit-rate bars {hit['rects']}, expected {with_signals}")
            return f"{len(found)} charts, {len(result['trades'])} trades marked"

        def tables():
            rows = b.js("return document.querySelectorAll('table[data-table=metrics] tr').length")
            expected = 1 + len(result["metrics"]) + 2
            require(rows == expected, f"metrics table has {rows} rows, expected {expected}")
            trades = b.js("return document.querySelectorAll('table[data-table=trades] tr').length")
            require(trades == 1 + len(result["trades"]), f"trades table has {trades} rows")

        def console():
            severe = b.severe()
            require(not severe, f"console errors: {severe}")

        run.check("report loads with no outside requests", loads)
        run.check("four kinds of chart draw with every trade marked", charts)
        run.check("metrics and trades tables", tables)
        run.check("no console errors", console)
        b.screenshot(os.path.join(out_dir, "backtest-report.png"), full_page=True)
    finally:
        b.quit()
    print(f"{run.passed} passed, {run.failed} failed")
    return 0 if run.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
