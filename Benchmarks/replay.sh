#!/usr/bin/env bash
# Replay throughput on one core: generates a CSV of N ticks (default 10M; 8 symbols, random walk,
# 1 tick per 10 ms of market time) once into Benchmarks/results/, then times
# `dongfeng replay --interval 1m` over it (the replay prints ticks/s on stderr), parsing the CSV and
# then from its --cache (the first of those runs writes it).
# Usage: Benchmarks/replay.sh [ticks]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
mkdir -p Benchmarks/results
csv="Benchmarks/results/ticks-$n.csv"
if [ ! -s "$csv" ]; then
  echo "generating $csv"
  awk -v n="$n" 'BEGIN {
    srand(7); split("600519.SH 000001.SZ 600036.SH 300750.SZ 601318.SH 000858.SZ 688981.SH 002594.SZ", sym, " ")
    split("1688.5 10.5 35.5 178.5 42.1 110.1 40.9 205.1", px, " ")
    print "ts,symbol,price,volume"
    ts = 1732500000000
    for (i = 0; i < n; i++) {
      k = int(rand() * 8) + 1
      px[k] = px[k] * (1 + (rand() - 0.5) * 0.002)
      printf "%.0f,%s,%.2f,%d\n", ts + i * 10, sym[k], px[k], 100 * (1 + int(rand() * 30))
    }
  }' >"$csv"
fi
ls -l "$csv" | awk '{printf "%s: %.0f MB\n", $9, $5 / 1e6}'
for run in 1 2 3; do
  "$bin" replay --input "$csv" --interval 1m --emit opportunities --output /dev/null 2>&1 | tail -1
done
# --cache: the first run parses and writes $csv.dfcache, the next ones read the ticks from it.
rm -f "$csv.dfcache"
for run in 1 2 3 4; do
  "$bin" replay --input "$csv" --interval 1m --emit opportunities --output /dev/null --cache 2>&1 | tail -1
done
