#!/usr/bin/env bash
# Does scraping /admin/metrics under load slow the pipeline? Runs the server (release) under
# full load — HTTPS POST tick → WSS opportunity traffic at 50k ticks/s from dongfeng-wsload, the
# top rate of Benchmarks/ws.sh, where this 2-core box is saturated (server loop, pipeline worker,
# sender and receiver threads) — in pairs of trials, one without scraping and one scraped once
# a second (15x Prometheus's default interval; SCRAPE_HZ=10 for 10/s) over one keep-alive
# connection (RATE=10000 for a box that is not saturated). Each trial is a fresh server. Reported per trial: the end-to-end p99 the client measured, and the
# server's own pipeline p99 (tick → processed, tick → opportunity) from its recent-window
# summaries. The verdict compares the medians over the pairs (this 2-core box is noisy).
# Usage: Benchmarks/metrics.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false; [ "${1:-}" = "--quick" ] && quick=true
swift build -c release --product dongfeng >/dev/null
swift build -c release --product dongfeng-wsload >/dev/null
bin="$(swift build -c release --show-bin-path)"
work=$(mktemp -d)
source Tests/lib/server.sh
scraper=""
trap 'if [ -n "$scraper" ]; then kill $scraper 2>/dev/null || true; fi; dfp_stop; rm -rf "$work"' EXIT

secs=10; pairs=5; rate=${RATE:-50000}
$quick && { secs=5; pairs=2; }
hz=${SCRAPE_HZ:-1}
token="metrics-bench-token-0123456789"

quantile() {  # metrics-file stage quantile → microseconds
  awk -v k="dongfeng_stage_latency_seconds_recent{stage=\"$2\",quantile=\"$3\"}" '$1 == k {printf "%.1f", $2 * 1e6}' "$1"
}

trial() {  # scrape(yes|no) → prints one result line, appends "e2e tick opp" to $work/$1
  # A fresh server each time: a restart on the last trial's folder would restore its market time,
  # ahead of the past-dated ticks the load generator posts, and expire their episodes at once.
  dfp_stop
  rm -rf "$work/data"
  dfp_start "$bin/dongfeng" "$work" DFP_FEED=none DFP_PIPELINE_INTERVAL=1ms DFP_PIPELINE_STRATEGIES_FILE=Benchmarks/e2e-strategies.json DFP_PIPELINE_COOLDOWN_S=0 \
    DFP_ADMIN_TOKEN=$token -- >/dev/null || exit 1
  local port=$dfp_port
  scraper=""
  if [ "$1" = yes ]; then
    : >"$work/urls"
    for _ in $(seq 1 $((secs * hz + 10 * hz))); do
      echo "url = \"https://127.0.0.1:$port/${SCRAPE_PATH:-admin/metrics}\"" >>"$work/urls"
      echo "output = \"/dev/null\"" >>"$work/urls"
    done
    # Timings to stderr (unbuffered: the scraper is stopped with a signal).
    curl -sk -H "Authorization: Bearer $token" --rate "$hz/s" -w '%{stderr}%{time_pretransfer} %{time_starttransfer}\n' \
      -K "$work/urls" 2>>"$work/scrape-times" &
    scraper=$!
  fi
  local out
  out=$("$bin/dongfeng-wsload" e2e --port "$port" --rate "$rate" --seconds "$secs" --warmup 500 2>&1)
  curl -sk -H "Authorization: Bearer $token" "https://127.0.0.1:$port/admin/metrics" >"$work/metrics.txt"
  local scrapes
  scrapes=$(awk '/^dongfeng_http_requests_total\{method="GET",route="\/admin\/metrics"/ {s+=$2} END {print s+0}' "$work/metrics.txt")
  if [ -n "$scraper" ]; then
    kill "$scraper" 2>/dev/null || true
    wait "$scraper" 2>/dev/null || true
    scraper=""
  fi
  local e2e tick opp
  e2e=$(echo "$out" | grep -oE 'p99 [0-9.]+' | head -1 | awk '{print $2}')
  tick=$(quantile "$work/metrics.txt" tick 0.99)
  opp=$(quantile "$work/metrics.txt" opportunity 0.99)
  printf "  scrape=%-3s  scrapes=%-4s e2e p99 %8s µs   pipeline p99: tick→processed %8s µs, tick→opportunity %8s µs\n" \
    "$1" "$scrapes" "$e2e" "$tick" "$opp"
  echo "$e2e $tick $opp" >>"$work/$1"
  dfp_stop
}

echo "== /admin/metrics scraped ${hz}/s under load (HTTPS POST → WSS at $rate ticks/s), $pairs pair(s) of ${secs} s"
for _ in $(seq 1 "$pairs"); do
  trial no
  trial yes
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# One scrape's time to first byte past the request sent, as the client saw it (server work,
# the hop to a background thread and back, TLS).
awk 'NF == 2 && $1 > 0 {printf "%.1f\n", ($2 - $1) * 1e6}' "$work/scrape-times" | median \
  | awk '{printf "  scrape: median %.0f µs from request sent to first byte, under load\n", $1}'
for col in 1 2 3; do
  name=$(echo "e2e tick→processed tick→opportunity" | cut -d' ' -f$col)
  off=$(cut -d' ' -f$col "$work/no" | median)
  on=$(cut -d' ' -f$col "$work/yes" | median)
  awk -v n="$name" -v a="$off" -v b="$on" 'BEGIN {
    r = (a > 0) ? b / a : 0
    printf "  %-18s p99 median: not scraped %9.1f µs, scraped %9.1f µs, ratio %.3f (%s)\n", n, a, b, r,
      (r <= 1.05) ? "within 5%" : "MORE than 5% higher"
  }'
done
