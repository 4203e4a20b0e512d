#!/usr/bin/env bash
# Redis ingest through the bridge: N ticks (default 500k, 8 symbols) are loaded into
# dfp:clean_ticks with `redis-cli --pipe`, then a release server with redis.url reads them in its
# consumer group (XREADGROUP, XACK after processing) and the time until every tick is processed
# and acknowledged gives ticks/s. Installs redis-server from Debian when missing.
# Usage: Benchmarks/redis.sh [ticks]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500000}
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
source Tests/lib/server.sh
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning >/dev/null 2>&1 &
rpid=$!
trap 'dfp_stop; kill $rpid 2>/dev/null || true; wait $rpid 2>/dev/null || true; rm -rf "$work"' EXIT
until redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.05; done
echo "loading $n ticks into dfp:clean_ticks"
awk -v n="$n" 'BEGIN {
  split("600519.SH 000001.SZ 600036.SH 300750.SZ 601318.SH 000858.SZ 688981.SH 002594.SZ", sym, " ")
  srand(3)
  for (i = 0; i < n; i++) {
    k = (i % 8) + 1
    p = sprintf("%.2f", 100 + 10 * sin(i / 5000.0 + k) + rand())
    ts = sprintf("%.0f", 1732500000000 + i * 5)
    printf "*11\r\n$4\r\nXADD\r\n$15\r\ndfp:clean_ticks\r\n$1\r\n*\r\n$6\r\nsymbol\r\n$%d\r\n%s\r\n$2\r\nts\r\n$%d\r\n%s\r\n$5\r\nprice\r\n$%d\r\n%s\r\n$6\r\nvolume\r\n$3\r\n100\r\n", length(sym[k]), sym[k], length(ts), ts, length(p), p
  }
}' | redis-cli -p "$rport" --pipe | tail -1
t0=$(date +%s%N)
dfp_start "$bin" "$work" DFP_REDIS_URL="redis://127.0.0.1:$rport" DFP_JOURNAL_FSYNC=interval -- --feed none
while :; do
  h=$(curl -sk "https://127.0.0.1:$dfp_port/admin/health")
  done_ticks=$(echo "$h" | python3 -c 'import json,sys; p=json.load(sys.stdin)["pipeline"]; print(p["ticks"] + p["out_of_order"])')
  acked=$(echo "$h" | python3 -c 'import json,sys; print(json.load(sys.stdin)["redis"]["source"]["acked"])')
  [ "$done_ticks" -ge "$n" ] && [ "$acked" -ge "$n" ] && break
  sleep 0.1
done
t1=$(date +%s%N)
awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "redis ingest: %d ticks read, processed, journaled and acknowledged in %.2f s (server start included): %.0f ticks/s\n", n, ns / 1e9, n / (ns / 1e9) }'
echo "$h" | python3 -c 'import json,sys; h=json.load(sys.stdin); print("pipeline:", {k: h["pipeline"][k] for k in ("ticks","bars","signals","opportunities","alerts")}); print("redis:", h["redis"])'
