#!/usr/bin/env bash
# HTTPS keep-alive throughput with wrk against a release build of the server, plus start-up
# time to first 200 and idle CPU. Usage: Benchmarks/https.sh [seconds-per-run] [connections...]
# Installs wrk from Debian when missing. Prints one table; run it a few times on a noisy machine.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
shift || true
conns=("${@:-16 64 256}")
conns=(${conns[*]})
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
source Tests/lib/server.sh
trap 'dfp_stop; rm -rf "$work"' EXIT
t0=$(date +%s%N)
dfp_start "$bin" "$work" -- --feed none
port=$dfp_port
pid=$dfp_pid
until curl -sk -o /dev/null "https://127.0.0.1:$port/health"; do sleep 0.005; done
t1=$(date +%s%N)
echo "start-up to first 200: $(( (t1 - t0) / 1000000 )) ms (includes certificate load or generation)"

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
a=$(ticks); sleep 10; b=$(ticks)
echo "idle CPU over 10 s: $(awk -v d=$((b - a)) -v hz="$hz" 'BEGIN { printf "%.2f%% of a core", d / hz / 10 * 100 }')"
echo "RSS at rest: $(awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status")"
echo
wrk_rows() {  # LABEL PATH: one table row per connection count
  for c in "${conns[@]}"; do
    out=$(wrk -t2 -c"$c" -d"${duration}s" --latency "https://127.0.0.1:$port$2" 2>&1)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | grep -E 'Socket errors|Non-2xx' || true)
    printf '%-10s %-6s %12s %10s %10s %s\n' "$1" "$c" "$rps" "$p50" "$p99" "$errors"
  done
}
printf '%-10s %-6s %12s %10s %10s\n' path conns req/s p50 p99
wrk_rows /health /health
wrk_rows / /
echo "RSS after load: $(awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status")"

# The REST query path with data in it: a second server whose simulator runs fast enough to fill
# the opportunity list within seconds; wrk then reads the newest 20 (about 8 KB of JSON).
dfp_start "$bin" "$work" DFP_SIMULATOR_TICKS_PER_SECOND=5000 -- --feed simulator
port=$dfp_port
pid=$dfp_pid
path="/api/v1/opportunities?limit=20"
for _ in $(seq 1 120); do
  n=$(curl -sk "https://127.0.0.1:$port$path" | grep -o '"seq"' | wc -l || true)
  [ "$n" -ge 20 ] && break
  sleep 0.5
done
echo
echo "REST with the simulator at 5000 ticks/s: $path returns $(curl -sk "https://127.0.0.1:$port$path" | wc -c) bytes"
wrk_rows "opps?20" "$path"
