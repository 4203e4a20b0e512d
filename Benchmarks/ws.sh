#!/usr/bin/env bash
# WebSocket and end-to-end figures against a release build, with our own load generator
# (Benchmarks/WSLoad, on the same reactor): HTTPS POST tick → WSS opportunity latency at several
# offered rates; memory per idle WSS connection; fan-out msgs/s delivered to 1k and 10k
# subscribers with permessage-deflate off and on. Usage: Benchmarks/ws.sh [--quick]
# One machine runs server and clients: the figures are for comparison on the same host.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false; [ "${1:-}" = "--quick" ] && quick=true
swift build -c release --product dongfeng >/dev/null
swift build -c release --product dongfeng-wsload >/dev/null
bin="$(swift build -c release --show-bin-path)"
work=$(mktemp -d)
source Tests/lib/server.sh
trap 'dfp_stop; rm -rf "$work"' EXIT
serve() {  # env assignments...: (re)starts the server, sets $port and $pid
  dfp_start "$bin/dongfeng" "$work" "$@" -- || exit 1
  port=$dfp_port
  pid=$dfp_pid
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

secs=10; $quick && secs=3
echo "== end-to-end: HTTPS POST tick → WSS opportunity (1 ms bars, Benchmarks/e2e-strategies.json)"
rm -rf "$work/data"  # past-dated ticks on a fresh symbol: no market time restored from elsewhere
serve DFP_FEED=none DFP_PIPELINE_INTERVAL=1ms DFP_PIPELINE_STRATEGIES_FILE=Benchmarks/e2e-strategies.json DFP_PIPELINE_COOLDOWN_S=0
for rate in 1000 10000 50000; do
  "$bin/dongfeng-wsload" e2e --port "$port" --rate "$rate" --seconds "$secs" --warmup 500
done

echo
echo "== memory per idle WSS connection (server RSS delta / connections)"
for n in 1000 10000; do
  serve DFP_FEED=none DFP_SERVER_MAX_CONNECTIONS=60000
  sleep 0.5
  before=$(rss_kb)
  fifo="$work/idle.out"
  "$bin/dongfeng-wsload" idle --port "$port" --clients "$n" --seconds 4 >"$fifo" &
  load=$!
  until grep -q ready "$fifo" 2>/dev/null; do sleep 0.1; done
  sleep 1
  after=$(rss_kb)
  head -1 "$fifo"
  awk -v b="$before" -v a="$after" -v n="$n" 'BEGIN { printf "idle %d: server RSS %d kB → %d kB: %.2f KiB per connection\n", n, b, a, (a - b) / n }'
  wait "$load"
done

echo
echo "== fan-out: simulator ticks to every subscriber (channel ticks)"
for spec in "1000 3000" "10000 300"; do
  set -- $spec
  n=$1; tps=$2
  for deflate in "" "--deflate"; do
    serve DFP_SIMULATOR_TICKS_PER_SECOND="$tps" DFP_SERVER_MAX_CONNECTIONS=60000 DFP_WEBSOCKET_OUTBOUND_CAP_BYTES=4194304
    echo "-- $n subscribers, simulator $tps ticks/s ${deflate:+(permessage-deflate)}"
    "$bin/dongfeng-wsload" fanout --port "$port" --clients "$n" --seconds "$secs" $deflate | grep -v '^  '
    echo "   server: $(awk '/VmRSS/ {print "RSS " $2 " kB"}' "/proc/$pid/status"), $(curl -sk "https://127.0.0.1:$port/admin/health" | grep -oE '"write_queue_overflows":[0-9]+')"
  done
done
