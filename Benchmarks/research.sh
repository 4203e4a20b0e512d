#!/usr/bin/env bash
# Strategy research throughput (docs/RESEARCH.md), on this machine:
#   - `dongfeng backtest` of one rule (SMA cross, long-only) over an OHLCV file of N one-minute
#     bars, read, run and traded: bars/s;
#   - `dongfeng backtest` and `dongfeng replay` over the same tick file: ticks/s side by side;
#   - `dongfeng sweep` of 100 combinations (fast 5..50 x slow 20..200) over the bars on one
#     thread and on two: seconds and speed-up;
#   - backtesting.py (pinned 0.6.6, the reference of Tests/e2e/backtest_vs_reference.py) on the
#     same bars and strategy: bars/s and the ratio.
# Every run is printed; the median of RUNS is recorded. Server-less: nothing is pinned to cores
# but the sweep's threads (each run is one process on an idle machine).
# Usage: Benchmarks/research.sh [--smoke | --quick] [--records FILE]
#   (default: 1M bars, 10M ticks, 3 runs; --quick 200k bars, 1M ticks, 1 run; --smoke 20k bars,
#   50k ticks, 1 run.) --records appends "research<TAB>name<TAB>value<TAB>unit" lines for
#   Benchmarks/report.py (Benchmarks/run.sh passes its own).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full records=""
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) mode=smoke ;;
    --quick) mode=quick ;;
    --records) records=$2; shift ;;
    *) echo "usage: Benchmarks/research.sh [--smoke | --quick] [--records FILE]" >&2; exit 2 ;;
  esac
  shift
done
case $mode in
  full) bars=1000000 ticks=10000000 runs=3 ;;
  quick) bars=200000 ticks=1000000 runs=1 ;;
  smoke) bars=20000 ticks=50000 runs=1 ;;
esac
record() {
  echo "research $1: $2 $3"
  if [ -n "$records" ]; then printf 'research\t%s\t%s\t%s\n' "$1" "$2" "$3" >>"$records"; fi
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
python=.venv-tests/bin/python
if ! "$python" -c "import backtesting, talib, sys; sys.exit(backtesting.__version__ != '0.6.6')" 2>/dev/null; then
  [ -x "$python" ] || python3 -m venv .venv-tests
  .venv-tests/bin/pip install -q "TA-Lib==0.8.2" "numpy==2.4.6" "backtesting==0.6.6"
fi
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

awk -v n="$bars" 'BEGIN {
  srand(11); p = 100; print "Datetime,Open,High,Low,Close,Volume"
  for (i = 0; i < n; i++) {
    t = 1420070400 + i * 60
    o = p * (1 + (rand() - 0.5) * 0.001); c = o * (1 + (rand() - 0.5) * 0.004)
    h = (o > c ? o : c) * (1 + rand() * 0.001); l = (o < c ? o : c) * (1 - rand() * 0.001)
    printf "%s,%.4f,%.4f,%.4f,%.4f,%d\n", strftime("%Y-%m-%d %H:%M:%S", t, 1), o, h, l, c, 100 + int(rand() * 9900)
    p = c
  }
}' >"$work/bars.csv"
awk -v n="$ticks" 'BEGIN {
  srand(7); split("600519.SH 000001.SZ 600036.SH 300750.SZ 601318.SH 000858.SZ 688981.SH 002594.SZ", sym, " ")
  split("1688.5 10.5 35.5 178.5 42.1 110.1 40.9 205.1", px, " ")
  print "ts,symbol,price,volume"
  for (i = 0; i < n; i++) {
    k = int(rand() * 8) + 1
    px[k] = px[k] * (1 + (rand() - 0.5) * 0.002)
    printf "%.0f,%s,%.2f,%d\n", 1732500000000 + i * 10, sym[k], px[k], 100 * (1 + int(rand() * 30))
  }
}' >"$work/ticks.csv"
cat >"$work/strategies.json" <<'JSON'
{"strategies": {"rsi_reversal": {"enabled": false}, "macd_cross": {"enabled": false}, "bollinger": {"enabled": false},
                "momentum_breakout": {"enabled": false}, "volume_spike": {"enabled": false}, "vwap_deviation": {"enabled": false}},
 "rules": [{"name": "sma_cross", "params": {"fast": 10, "slow": 30}, "direction": "long",
            "when": "crosses_above(sma(close,fast), sma(close,slow))",
            "exit_when": "crosses_below(sma(close,fast), sma(close,slow))"}]}
JSON
seconds() { grep -oE 'in [0-9.]+ s' | tail -1 | awk '{print $2}'; }

echo "== backtest over $bars one-minute bars (OHLCV file), sma_cross long-only"
ours=() engine=()
for _ in $(seq 1 "$runs"); do
  line=$("$bin" backtest --input "$work/bars.csv" --strategies-file "$work/strategies.json" --strategies sma_cross --long-only 2>&1 >/dev/null | tail -1)
  echo "  $line"
  ours+=("$(echo "$line" | seconds)")
  engine+=("$(echo "$line" | grep -oE '= [0-9]+ bars/s' | awk '{print $2}')")
done
s=$(printf '%s\n' "${ours[@]}" | median)
ours_rate=$(awk -v n="$bars" -v s="$s" 'BEGIN {printf "%.0f", n / s}')
record "backtest, $bars OHLCV bars, 1 rule, CSV parsed (read + engine + trades, median of $runs)" "$ours_rate" bars/s
record "backtest engine alone over the read bars (median of $runs)" "$(printf '%s\n' "${engine[@]}" | median)" bars/s

echo "== the same backtest with --cache (the first run parses and writes FILE.dfcache, the next ones map it)"
line=$("$bin" backtest --input "$work/bars.csv" --strategies-file "$work/strategies.json" --strategies sma_cross --long-only --cache 2>&1 >/dev/null | tail -1)
echo "  first (writes the cache): $line"
warm=()
for _ in $(seq 1 "$runs"); do
  line=$("$bin" backtest --input "$work/bars.csv" --strategies-file "$work/strategies.json" --strategies sma_cross --long-only --cache 2>&1 >/dev/null | tail -1)
  echo "  $line"
  warm+=("$(echo "$line" | seconds)")
done
w=$(printf '%s\n' "${warm[@]}" | median)
record "backtest, same bars and rule, read from the --cache (read + engine + trades, median of $runs)" \
  "$(awk -v n="$bars" -v s="$w" 'BEGIN {printf "%.0f", n / s}')" bars/s

echo "== backtesting.py 0.6.6 on the same bars and strategy"
peer=()
for _ in $(seq 1 "$runs"); do
  line=$("$python" Benchmarks/research_peer.py "$work/bars.csv" 10 30)
  echo "  $line"
  peer+=("$(echo "$line" | grep -oE 'in [0-9.]+ s' | awk '{print $2}')")
done
p=$(printf '%s\n' "${peer[@]}" | median)
peer_rate=$(awk -v n="$bars" -v s="$p" 'BEGIN {printf "%.0f", n / s}')
record "backtesting.py 0.6.6, same bars and strategy (pandas load + run, median of $runs)" "$peer_rate" bars/s
record "Dongfeng / backtesting.py" "$(awk -v a="$ours_rate" -v b="$peer_rate" 'BEGIN {printf "%.1f", a / b}')" x

echo "== backtest and replay over $ticks ticks (1m bars, 8 symbols)"
bt=() rp=()
for _ in $(seq 1 "$runs"); do
  line=$("$bin" backtest --input "$work/ticks.csv" --interval 1m --strategies-file "$work/strategies.json" --strategies sma_cross 2>&1 >/dev/null | tail -1)
  echo "  $line"
  bt+=("$(awk -v n="$ticks" -v s="$(echo "$line" | seconds)" 'BEGIN {printf "%.0f", n / s}')")
  line=$("$bin" replay --input "$work/ticks.csv" --interval 1m --config "$work/strategies.json" --emit signals --output /dev/null 2>&1 | tail -1)
  echo "  $line"
  rp+=("$(echo "$line" | grep -oE '[0-9]+ ticks/s' | awk '{print $1}')")
done
record "backtest, $ticks ticks, 1 rule (median of $runs)" "$(printf '%s\n' "${bt[@]}" | median)" ticks/s
record "replay, same ticks and rule (median of $runs)" "$(printf '%s\n' "${rp[@]}" | median)" ticks/s

echo "== sweep of 100 combinations over $bars bars"
for jobs in 1 2; do
  t=()
  for _ in $(seq 1 "$runs"); do
    line=$("$bin" sweep --input "$work/bars.csv" --strategies-file "$work/strategies.json" --strategy sma_cross \
      --param fast=5:50:5 --param slow=20:200:20 --long-only --jobs "$jobs" --top 1 2>&1 >/dev/null | tail -1)
    echo "  $line"
    t+=("$(echo "$line" | grep -oE 'in [0-9.]+ s' | awk '{print $2}')")
  done
  eval "sweep$jobs=$(printf '%s\n' "${t[@]}" | median)"
done
record "sweep, 100 combinations x $bars bars, 1 thread (median of $runs)" "$sweep1" s
record "sweep, same, 2 threads (median of $runs)" "$sweep2" s
record "sweep speed-up, 2 threads over 1" "$(awk -v a="$sweep1" -v b="$sweep2" 'BEGIN {printf "%.2f", a / b}')" x
record "sweep throughput, 2 threads" "$(awk -v n="$bars" -v s="$sweep2" 'BEGIN {printf "%.0f", 100 * n / s}')" "combination-bars/s"
