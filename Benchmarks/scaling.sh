#!/usr/bin/env bash
# Reactor loops 1 → 2 (`--loops N --reuse-port`), HTTPS keep-alive (wrk, 64 connections) on the
# REST answer the peers are compared on (GET /api/v1/opportunities?limit=20, feed paused).
#
# Method: this machine has 2 cores, so a server with 2 loops on 2 cores cannot also leave a core
# to the load generator. Four configurations, each run RUNS times, every run printed:
#   1 loop,  server on core 0, wrk on core 1          (the pinned figure the peers get)
#   2 loops, server on core 0, wrk on core 1          (what a second loop costs on one core)
#   1 loop,  server and wrk on both cores, unpinned
#   2 loops, server and wrk on both cores, unpinned
# Scaling is read from the unpinned pair as requests per server CPU-second (work per core kept
# as loops are added) and as req/s (what the second loop adds while sharing cores with wrk).
# Usage: Benchmarks/scaling.sh [seconds] [runs]; prints tab-separated rows:
#   config  run  req/s  server CPU-seconds  req per server CPU-second
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
runs=${2:-3}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
source Tests/lib/server.sh
trap 'dfp_stop; rm -rf "$work"' EXIT
token=scalingtoken0123456789abcdef01234567
path="/api/v1/opportunities?limit=20"
hz=$(getconf CLK_TCK)

start() {  # LOOPS: a server with a full, paused opportunity list
  local extra=()
  [ "$1" -gt 1 ] && extra=(--loops "$1" --reuse-port)
  dfp_start "$bin" "$work" DFP_SIMULATOR_TICKS_PER_SECOND=5000 DFP_ADMIN_TOKEN=$token -- --feed simulator "${extra[@]}" >/dev/null
  for _ in $(seq 1 240); do
    n=$(curl -sk "https://127.0.0.1:$dfp_port$path" | grep -o '"seq"' | wc -l || true)
    [ "$n" -ge 20 ] && break
    sleep 0.5
  done
  curl -sk -X POST -H "Authorization: Bearer $token" "https://127.0.0.1:$dfp_port/admin/feed/pause" >/dev/null
  sleep 0.3
  local bytes
  bytes=$(curl -sk "https://127.0.0.1:$dfp_port$path" | wc -c)
  [ "$bytes" -gt 1000 ] || { echo "the opportunity list stayed short ($bytes bytes)" >&2; exit 1; }
  echo "$1 loop(s): $path answers $bytes bytes" >&2
}
cpu() { awk '{print $14 + $15}' "/proc/$dfp_pid/stat"; }

for config in "1 0 1" "2 0 1" "1 0,1 0,1" "2 0,1 0,1"; do
  read -r loops server_cpus load_cpus <<<"$config"
  start "$loops"
  taskset -a -p -c "$server_cpus" "$dfp_pid" >/dev/null
  threads=1
  [ "$load_cpus" = "0,1" ] && threads=2
  label="$loops loop(s), server on core(s) $server_cpus, wrk on core(s) $load_cpus"
  taskset -c "$load_cpus" wrk -t"$threads" -c64 -d2s "https://127.0.0.1:$dfp_port$path" >/dev/null 2>&1 || true  # warm-up
  for run in $(seq 1 "$runs"); do
    a=$(cpu)
    out=$(taskset -c "$load_cpus" wrk -t"$threads" -c64 -d"${secs}s" "https://127.0.0.1:$dfp_port$path" 2>&1)
    b=$(cpu)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    errors=$(echo "$out" | grep -E 'Socket errors|Non-2xx' || true)
    [ -n "$errors" ] && echo "$label: $errors" >&2
    awk -v l="$label" -v r="$run" -v rps="$rps" -v n="$reqs" -v d=$((b - a)) -v hz="$hz" \
      'BEGIN { s = d / hz; printf "%s\t%d\t%.0f\t%.2f\t%.0f\n", l, r, rps, s, (s > 0 ? n / s : 0) }'
  done
  dfp_stop
done
