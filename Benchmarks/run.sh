#!/usr/bin/env bash
# Dongfeng beside the servers a user would pick instead, on this machine, in one run:
#   nginx (same bytes, same certificate and TLS settings), a Hummingbird 2 / SwiftNIO server
#   (Benchmarks/peers/hb-peer) and the seed's stack approximated by FastAPI + uvicorn
#   (Benchmarks/peers/fastapi), each given one worker/thread, under wrk over HTTPS:
#   - GET /api/v1/opportunities?limit=20 (Dongfeng encodes it per request from its store; the
#     peers send the bytes Dongfeng answered, captured before the run) at 16 and 64 connections;
#   - GET / (the page) at 16 and 64 connections;
#   - TLS handshakes/s: a new connection per request (Connection: close), 16 connections;
# then WebSocket (dongfeng-wsload, on our reactor): HTTPS POST tick → WSS opportunity latency at
# 1k/10k/50k ticks/s; fan-out msgs/s and publish → receive latency to 1k/10k/19k subscribers with
# and without permessage-deflate, beside a Python `websockets` server doing the same fan-out
# (Benchmarks/peers/ws-fanout); connect rate; memory per idle WSS connection; then the pipeline
# alone and CSV replay ticks/s; start-up, idle CPU, RSS.
# Every figure is the median of several runs, servers interleaved run by run so drift hits all
# alike; ratios are Dongfeng / peer. Each HTTPS server runs pinned to one core (every thread of
# it, `taskset`; SERVER_CPU, default 0) and wrk to another (LOAD_CPU, default 1), so each figure
# is one server core against one load core. Dongfeng is measured with its feed paused (the
# answer cached) and live (the simulator at 5k ticks/s on the same core, the store moving).
# Writes docs/PERFORMANCE.md (and docs/performance.svg).
# Usage: Benchmarks/run.sh [--quick | --smoke] [--out FILE]
#   --quick  2 runs of 4 s per cell (about 5 minutes with the peers built)
#   --smoke  1 run of 1 s per cell: checks the harness end to end (Tests/run.sh runs it)
# Installs what it needs: Debian nginx and wrk, a venv .venv-bench with FastAPI, uvicorn and websockets.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
out=docs/PERFORMANCE.md
while [ $# -gt 0 ]; do
  case $1 in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --out) out=$2; shift ;;
    *) echo "usage: Benchmarks/run.sh [--quick | --smoke] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
case $mode in
  full) secs=10; runs=3 ;;
  quick) secs=4; runs=2 ;;
  smoke) secs=1; runs=1 ;;
esac
say() { echo "==> $*" >&2; }
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
pin() {  # PID...: every thread of each process (and of its children) onto the server core
  for p in "$@"; do
    taskset -a -p -c "$server_cpu" "$p" >/dev/null
    for c in $(pgrep -P "$p" || true); do taskset -a -p -c "$server_cpu" "$c" >/dev/null; done
  done
}

# --- what the peers need ----------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} (Debian)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
venv=.venv-bench
if [ ! -x "$venv/bin/uvicorn" ] || ! cmp -s Benchmarks/peers/requirements.txt "$venv/requirements.txt"; then
  say "creating $venv (FastAPI, uvicorn, websockets)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r Benchmarks/peers/requirements.txt
  cp Benchmarks/peers/requirements.txt "$venv/requirements.txt"
fi
say "building Dongfeng and the Hummingbird peer (release)"
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
hb_scratch=${HB_SCRATCH:-$PWD/.build-peers/hb-peer}  # its own scratch folder (SwiftNIO takes minutes to build once)
(cd Benchmarks/peers/hb-peer && swift build -c release --scratch-path "$hb_scratch" >/dev/null)
hb="$(cd Benchmarks/peers/hb-peer && swift build -c release --scratch-path "$hb_scratch" --show-bin-path)/HBPeer"

work=$(mktemp -d)
mkdir -p "$work/www" "$work/nginx-tmp"
chmod 755 "$work" "$work/www"  # nginx's workers run as an unprivileged user
source Tests/lib/server.sh
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  dfp_stop
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {  # URL
  for _ in $(seq 1 600); do curl -skf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "not ready: $1" >&2; return 1
}

# --- Dongfeng with data, then quiet --------------------------------------------------------------
say "Dongfeng: filling the opportunity list (simulator), then pausing the feed"
token="bench-admin-token-0123456789"
dfp_start "$bin" "$work" DFP_SIMULATOR_TICKS_PER_SECOND=5000 DFP_ADMIN_TOKEN=$token -- --feed simulator >/dev/null
df_port=$dfp_port
path="/api/v1/opportunities?limit=20"
for _ in $(seq 1 240); do
  n=$(curl -sk "https://127.0.0.1:$df_port$path" | grep -o '"seq"' | wc -l || true)
  [ "$n" -ge 20 ] && break
  sleep 0.5
done
curl -sk -X POST -H "Authorization: Bearer $token" "https://127.0.0.1:$df_port/admin/feed/pause" >/dev/null
sleep 0.3
curl -sk "https://127.0.0.1:$df_port$path" >"$work/www/opportunities.json"
curl -sk "https://127.0.0.1:$df_port/" >"$work/www/index.html"
cp "$work/www/opportunities.json" "$work/opportunities.json"
json_bytes=$(wc -c <"$work/opportunities.json")
page_bytes=$(wc -c <"$work/www/index.html")
[ "$json_bytes" -gt 1000 ] || { echo "the opportunity list stayed short ($json_bytes bytes)" >&2; exit 1; }
cert="$work/certs/dev-cert.pem"
key="$work/certs/dev-key.pem"

# --- the peers -----------------------------------------------------------------------------------
nginx_port=$(free_port)
sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$nginx_port|g" -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" \
  Benchmarks/peers/nginx.conf.in >"$work/nginx.conf"
taskset -c "$server_cpu" /usr/sbin/nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
pids+=($!)
hb_port=$(free_port)
taskset -c "$server_cpu" "$hb" "$hb_port" "$cert" "$key" "$work/opportunities.json" "$work/www/index.html" >"$work/hummingbird.log" 2>&1 &
pids+=($!)
fa_port=$(free_port)
(cd Benchmarks/peers/fastapi && PEER_JSON="$work/opportunities.json" PEER_PAGE="$work/www/index.html" \
  exec taskset -c "$server_cpu" "../../../$venv/bin/uvicorn" app:app --host 127.0.0.1 --port "$fa_port" --workers 1 \
  --loop uvloop --http httptools --log-level warning \
  --no-access-log --ssl-certfile "$cert" --ssl-keyfile "$key") >"$work/fastapi.log" 2>&1 &
pids+=($!)
declare -A port=([dongfeng]=$df_port [nginx]=$nginx_port [hummingbird]=$hb_port [fastapi]=$fa_port)
declare -A pid=([dongfeng]=$dfp_pid [nginx]=${pids[0]} [hummingbird]=${pids[1]} [fastapi]=${pids[2]})
hz=$(getconf CLK_TCK)
cpu_ticks() {  # server → CPU time used so far (clock ticks), its child processes included
  local all=("${pid[$1]}") total=0
  all+=($(pgrep -P "${pid[$1]}" || true))
  for p in "${all[@]}"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
servers=(dongfeng nginx hummingbird fastapi)
for s in "${servers[@]}"; do
  wait_ready "https://127.0.0.1:${port[$s]}/api/v1/opportunities?limit=20" || {
    echo "$s did not start; its log:" >&2
    cat "$work/$s.log" "$work/nginx-error.log" "$work/server.log" 2>/dev/null | tail -20 >&2
    exit 1
  }
  got=$(curl -sk "https://127.0.0.1:${port[$s]}$path" | wc -c)
  [ "$got" -eq "$json_bytes" ] || { echo "$s answers $got bytes, not $json_bytes" >&2; exit 1; }
  pin "${pid[$s]}"
done

# --- the runs ------------------------------------------------------------------------------------
results="$work/results.tsv"
printf 'scenario\tserver\tconns\trun\treq_s\tp50_ms\tp99_ms\terrors\tcpu_s\twall_s\n' >"$results"
to_ms() {  # wrk's 123.45us / 1.23ms / 1.2s → ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
cell() {  # scenario conns server run url [wrk args...]
  local scenario=$1 conns=$2 server=$3 run=$4 url=$5
  shift 5
  local output rps p50 p99 errors before after t0 t1
  before=$(cpu_ticks "$server")
  t0=$(date +%s%N)
  output=$(taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" "$url" 2>&1 || true)
  t1=$(date +%s%N)
  after=$(cpu_ticks "$server")
  rps=$(echo "$output" | awk '/Requests\/sec/ {print $2}')
  p50=$(to_ms "$(echo "$output" | awk '$1 == "50%" {print $2}')")
  p99=$(to_ms "$(echo "$output" | awk '$1 == "99%" {print $2}')")
  errors=$(echo "$output" | awk '/Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} /Non-2xx/ {n += $NF} END {print n + 0}')
  local cpu wall
  cpu=$(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
  wall=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.2f", ns / 1e9}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$server" "$conns" "$run" "${rps:-0}" "$p50" "$p99" "${errors:-0}" "$cpu" "$wall" >>"$results"
  say "$(printf '%-10s %-12s c=%-3s run %s: %10s req/s  p50 %8s ms  p99 %8s ms  server CPU %5s s of %5s s' "$scenario" "$server" "$conns" "$run" "${rps:-0}" "$p50" "$p99" "$cpu" "$wall")"
}
for run in $(seq 1 "$runs"); do
  for conns in 16 64; do
    for s in "${servers[@]}"; do cell json "$conns" "$s" "$run" "https://127.0.0.1:${port[$s]}$path"; done
    for s in "${servers[@]}"; do cell page "$conns" "$s" "$run" "https://127.0.0.1:${port[$s]}/"; done
  done
  for s in "${servers[@]}"; do cell handshake 16 "$s" "$run" "https://127.0.0.1:${port[$s]}/health" -H "Connection: close"; done
done
# Dongfeng live: the simulator publishes again (5k ticks/s, on the server's core), so the store
# moves and cached answers are rebuilt as it does. nginx, the goal's peer, runs again interleaved
# with these runs (same fixed bytes), so drift on this shared machine hits both alike: two more
# runs than the other scenarios, and the order swapped every run (ABBA), since nginx's own figure
# moves by a fifth from run to run here. The other peers are compared on their runs above.
curl -sk -X POST -H "Authorization: Bearer $token" "https://127.0.0.1:$df_port/admin/feed/resume" >/dev/null
sleep 1
for run in $(seq 1 $((runs + 2))); do
  for conns in 16 64; do
    order=(dongfeng nginx)
    [ $((run % 2)) -eq 0 ] && order=(nginx dongfeng)
    for s in "${order[@]}"; do cell json-live "$conns" "$s" "$run" "https://127.0.0.1:${port[$s]}$path"; done
  done
done
curl -sk -X POST -H "Authorization: Bearer $token" "https://127.0.0.1:$df_port/admin/feed/pause" >/dev/null

# --- WebSocket, end to end and resources (Dongfeng; dongfeng-wsload on our own reactor) ----------
for s in nginx hummingbird fastapi; do kill "${pid[$s]}" 2>/dev/null || true; done

swift build -c release --product dongfeng-wsload >/dev/null
wsload="$(swift build -c release --show-bin-path)/dongfeng-wsload"
extra="$work/extra.tsv"
printf 'section\tname\tvalue\tunit\n' >"$extra"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$extra"; say "$1 $2: $3 $4"; }
case $mode in
  # fan-out specs: subscribers:ticks/s for throughput:ticks/s for latency:py (also the Python
  # websockets peer) or -. Throughput offers ~3M msgs/s, more than either end can take, so its
  # queues fill and latency there measures the queue. Latency is taken at ~30k msgs/s, with
  # 10k probe msgs/s: at low rates every tick is a batch of its own, one TLS write (server) and
  # one read (load generator) per subscriber, so 300k msgs/s already saturates both ends.
  # 19000 is the most this machine allows: its hard RLIMIT_NOFILE is 20000 and root lacks
  # CAP_SYS_RESOURCE to raise it, so neither server nor load generator can hold 50k sockets.
  full) e2e_rates="1000 10000 50000"; fan_specs="1000:3000:30:py 10000:300:3:py 19000:150:2:-"; idle_counts="1000 10000 19000"; idle_secs=60; conn_mem_n=2000; idle_https_n=5000; replay_ticks=10000000 ;;
  quick) e2e_rates="1000 10000 50000"; fan_specs="1000:3000:30:py 10000:300:3:-"; idle_counts="1000 10000"; idle_secs=10; conn_mem_n=1000; idle_https_n=2000; replay_ticks=1000000 ;;
  smoke) e2e_rates="1000"; fan_specs="100:300:300:py"; idle_counts="200"; idle_secs=2; conn_mem_n=100; idle_https_n=200; replay_ticks=20000 ;;
esac
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$dfp_pid/status"; }

say "reactor loops 1 → 2 (Benchmarks/scaling.sh: pinned and unpinned, every run)"
dfp_stop
case $mode in full) scaling_secs=10; scaling_runs=3 ;; quick) scaling_secs=5; scaling_runs=2 ;; *) scaling_secs=2; scaling_runs=1 ;; esac
while IFS=$'\t' read -r label run rps cpu_s per_cpu; do
  record scaling "$label, run $run" "$rps" "req/s"
  record scaling "$label, run $run, per server CPU-second" "$per_cpu" "req"
done < <(bash Benchmarks/scaling.sh "$scaling_secs" "$scaling_runs" || true)

say "memory per idle keep-alive HTTPS connection: Dongfeng, nginx, Hummingbird (fresh servers, one client)"
# Each server is started afresh (pinned as above) and measured alone by the same Python client
# (Benchmarks/idle_https_memory.py); RSS of all its processes, before and after N connections.
dfp_stop
sleep 0.5
for s in dongfeng nginx hummingbird; do
  case $s in
    dongfeng)
      dfp_start "$bin" "$work" DFP_FEED=none DFP_SERVER_MAX_CONNECTIONS=60000 -- >/dev/null
      pin "$dfp_pid"
      mem_port=$dfp_port; mem_pids=$dfp_pid; mem_path="/api/v1/opportunities?limit=20" ;;
    nginx)
      taskset -c "$server_cpu" /usr/sbin/nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
      mem_main=$!
      mem_port=$nginx_port; mem_path="/opportunities.json" ;;
    hummingbird)
      taskset -c "$server_cpu" "$hb" "$hb_port" "$cert" "$key" "$work/opportunities.json" "$work/www/index.html" >"$work/hummingbird.log" 2>&1 &
      mem_main=$!
      mem_port=$hb_port; mem_path="/api/v1/opportunities?limit=20" ;;
  esac
  wait_ready "https://127.0.0.1:$mem_port$mem_path" || true
  [ "$s" = dongfeng ] || mem_pids=$(echo "$mem_main" $(pgrep -P "$mem_main" || true) | tr ' ' ',')
  b=$(taskset -c "$load_cpu" python3 Benchmarks/idle_https_memory.py "$mem_port" "$mem_pids" "$idle_https_n" "$mem_path" || echo "")
  record https_memory "$idle_https_n idle keep-alive HTTPS connections, $s" "$b" "bytes each (RSS)"
  if [ "$s" = dongfeng ]; then dfp_stop; else kill "$mem_main" 2>/dev/null || true; wait "$mem_main" 2>/dev/null || true; fi
  sleep 0.5
done

say "end to end: HTTPS POST tick → WSS opportunity"
# A fresh data folder: the load generator posts past-dated ticks on a new symbol, and a restart on
# the earlier stages' folder would bring back their (live) market time, which expires its episodes.
dfp_stop
rm -rf "$work/data"
dfp_start "$bin" "$work" DFP_FEED=none DFP_PIPELINE_INTERVAL=1ms DFP_PIPELINE_STRATEGIES_FILE=Benchmarks/e2e-strategies.json \
  DFP_PIPELINE_COOLDOWN_S=0 -- >/dev/null
# Each rate runs $runs times (a fresh symbol each): every run is listed, and the median of the
# runs' figures is what the goal is read on.
for rate in $e2e_rates; do
  : >"$work/e2e-runs"
  for k in $(seq 1 "$runs"); do
    line=$("$wsload" e2e --port "$dfp_port" --rate "$rate" --seconds "$secs" --warmup 200 | grep 'e2e latency' || true)
    q() { echo "$line" | grep -oE " $1 [0-9.]+" | awk '{print $2}'; }
    echo "$(q p50) $(q p99) $(q p99.9)" >>"$work/e2e-runs"
    record e2e "$rate ticks/s, run $k: p50 / p99 / p99.9" "$(q p50) / $(q p99) / $(q p99.9)" µs
  done
  for col in 1 2 3; do
    label=$(echo "p50 p99 p99.9" | cut -d' ' -f"$col")
    record e2e "$rate ticks/s $label" "$(awk -v c="$col" '$c != "" {print $c}' "$work/e2e-runs" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR + 1) / 2)]}')" "µs (median of $runs runs)"
  done
done

say "fan-out: simulator ticks to every subscriber, beside Python websockets"
# Probe ticks are published over a WSS connection of the load generator's and read back by the
# subscribers: delivery latency publish → receive (Benchmarks/WSLoad/Probe.swift). Each size runs
# twice per server: saturated (msgs/s delivered) and at a light load (latency; see fan_specs).
fan_pass() {  # server subscribers ticks/s deflate-flag throughput|latency
  local server=$1 n=$2 tps=$3 deflate=$4 kind=$5 p fan label py=""
  if [ "$server" = dongfeng ]; then
    dfp_start "$bin" "$work" DFP_SIMULATOR_TICKS_PER_SECOND="$tps" DFP_SERVER_MAX_CONNECTIONS=60000 \
      DFP_WEBSOCKET_OUTBOUND_CAP_BYTES=4194304 -- --feed simulator >/dev/null
    p=$dfp_port
  else
    p=$(free_port)
    : >"$work/websockets.log"  # else the wait below may read the previous server's "listening"
    "$venv/bin/python" Benchmarks/peers/ws-fanout/server.py "$p" "$cert" "$key" "$tps" "$n" >"$work/websockets.log" 2>&1 &
    py=$!
    until grep -q listening "$work/websockets.log" 2>/dev/null; do kill -0 "$py" 2>/dev/null || break; sleep 0.05; done
  fi
  # Probes: 10k msgs/s in all (100/s to 100 subscribers, 1/s to 10k); none in throughput passes.
  local probes=0
  [ "$kind" = latency ] && probes=$(( 10000 / n > 1 ? 10000 / n : 1 ))
  fan=$("$wsload" fanout --port "$p" --clients "$n" --seconds "$((secs < 3 ? 3 : secs))" --probe-rate "$probes" $deflate || true)
  if [ "$server" = dongfeng ]; then dfp_stop; else kill "$py" 2>/dev/null || true; wait "$py" 2>/dev/null || true; fi
  label="$n subscribers${deflate:+, permessage-deflate}"
  if [ "$kind" = throughput ]; then
    record "fanout_$server" "$label" "$(echo "$fan" | grep -oE 'median [0-9]+ msgs/s' | awk '{print $2}')" msgs/s
    record "connect_$server" "$label" "$(echo "$fan" | grep -oE '\([0-9]+ connections/s\)' | grep -oE '[0-9]+')" connections/s
  else
    # No probe delivered in the run (n=0) is no figure, not a latency of 0.
    local lat
    lat=$(echo "$fan" | grep 'publish→receive' | grep -v ' n=0$' || true)
    record "fanlat_offered" "$label" "$((n * (tps + probes)))" msgs/s
    for q in p50 p99; do
      record "fanlat_$server" "$label $q" "$(echo "$lat" | grep -oE " $q [0-9.]+" | awk '{print $2}')" µs
    done
  fi
}
for spec in $fan_specs; do
  IFS=: read -r n tps_throughput tps_latency with_python <<<"$spec"
  for deflate in "" "--deflate"; do
    for kind in throughput latency; do
      tps=$tps_throughput
      [ "$kind" = latency ] && tps=$tps_latency
      fan_pass dongfeng "$n" "$tps" "$deflate" "$kind"
      if [ "$with_python" = py ]; then fan_pass websockets "$n" "$tps" "$deflate" "$kind"; fi
    done
  done
done

say "memory per idle WSS connection"
for n in $idle_counts; do
  dfp_start "$bin" "$work" DFP_FEED=none DFP_SERVER_MAX_CONNECTIONS=60000 -- >/dev/null
  sleep 1
  before=$(rss_kb)
  "$wsload" idle --port "$dfp_port" --clients "$n" --seconds 4 >"$work/idle.out" &
  load=$!
  until grep -q ready "$work/idle.out" 2>/dev/null; do kill -0 "$load" 2>/dev/null || break; sleep 0.1; done
  sleep 1
  after=$(rss_kb)
  wait "$load" || true
  record memory "$n idle WSS connections" "$(awk -v b="$before" -v a="$after" -v n="$n" 'BEGIN {printf "%.1f", (a - b) / n}')" "KiB each (RSS)"
done

say "memory by connection kind (heap in use per connection held open)"
dfp_start "$bin" "$work" DFP_FEED=none DFP_SERVER_MAX_CONNECTIONS=60000 DFP_PLAIN_HTTP_ENABLED=true DFP_PLAIN_HTTP_PORT=0 \
  DFP_PLAIN_HTTP_MODE=serve -- >/dev/null
while IFS=$'\t' read -r kind bytes; do
  record heap "$kind" "$bytes" "bytes of heap each"
done < <(python3 Benchmarks/conn_memory.py "$dfp_port" "$dfp_plain_port" "$conn_mem_n" || true)

say "resources: start-up, idle CPU, RSS"
dfp_stop
rm -rf "$work/data"  # a fresh data directory: start-up without journal recovery
t0=$(date +%s%N)
dfp_start "$bin" "$work" DFP_FEED=none -- >/dev/null
until curl -sk -o /dev/null "https://127.0.0.1:$dfp_port/health"; do sleep 0.002; done
t1=$(date +%s%N)
record resources "start-up to first 200" "$(( (t1 - t0) / 1000000 ))" ms
a=$(awk '{print $14 + $15}' "/proc/$dfp_pid/stat"); sleep "$idle_secs"; b=$(awk '{print $14 + $15}' "/proc/$dfp_pid/stat")
record resources "idle CPU over $idle_secs s (no feed)" "$(awk -v d=$((b - a)) -v hz="$hz" -v s="$idle_secs" 'BEGIN {printf "%.2f", d / hz / s * 100}')" "% of a core"
record resources "RSS at rest (no feed)" "$(( $(rss_kb) / 1024 ))" MB
dfp_start "$bin" "$work" DFP_SIMULATOR_TICKS_PER_SECOND=5000 -- --feed simulator >/dev/null
wrk -t1 -c64 -d"${secs}s" "https://127.0.0.1:$dfp_port/api/v1/opportunities?limit=20" >/dev/null 2>&1 || true
record resources "RSS after load (simulator 5k ticks/s + wrk)" "$(( $(rss_kb) / 1024 ))" MB
dfp_stop

say "pipeline alone (dongfeng-bench pipeline) and CSV replay ticks/s (dongfeng replay)"
swift build -c release --product dongfeng-bench >/dev/null
bench_out=$("$(swift build -c release --show-bin-path)/dongfeng-bench" pipeline "$(( replay_ticks < 2000000 ? replay_ticks : 2000000 ))")
record pipeline "engine alone, 1s bars, all strategies" "$(echo "$bench_out" | awk '/^engine ticks\/s/ {print $3}')" ticks/s
for rate in 100000 1000000; do
  line=$(echo "$bench_out" | grep -A1 "^offered $rate " | grep 'tick → processed')
  for q in p50 p99 p99.9; do
    record pipeline "ring → processed at $rate ticks/s $q" "$(echo "$line" | grep -oE " $q [0-9]+" | awk '{printf "%.1f", $2 / 1000}')" µs
  done
done
csv="$work/replay.csv"
awk -v n="$replay_ticks" 'BEGIN {
  srand(7); split("600519.SH 000001.SZ 600036.SH 300750.SZ 601318.SH 000858.SZ 688981.SH 002594.SZ", sym, " ")
  split("1688.5 10.5 35.5 178.5 42.1 110.1 40.9 205.1", px, " ")
  print "ts,symbol,price,volume"
  for (i = 0; i < n; i++) {
    k = int(rand() * 8) + 1
    px[k] = px[k] * (1 + (rand() - 0.5) * 0.002)
    printf "%.0f,%s,%.2f,%d\n", 1732500000000 + i * 10, sym[k], px[k], 100 * (1 + int(rand() * 30))
  }
}' >"$csv"
replay_rates=()
for _ in $(seq 1 "$runs"); do
  r=$("$bin" replay --input "$csv" --interval 1m --emit opportunities --output /dev/null 2>&1 | grep -oE '[0-9]+ ticks/s' | tail -1 | awk '{print $1}')
  replay_rates+=("${r:-0}")
done
record pipeline "CSV replay, $replay_ticks ticks, 1m bars (median of $runs)" "$(printf '%s\n' "${replay_rates[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')" ticks/s
# --cache: the first run parses and writes the ticks beside the file, the next ones read them.
r=$("$bin" replay --input "$csv" --interval 1m --emit opportunities --output /dev/null --cache 2>&1 | grep -oE '[0-9]+ ticks/s' | tail -1 | awk '{print $1}')
record pipeline "CSV replay with --cache, first run (parse + write the cache)" "${r:-0}" ticks/s
replay_rates=()
for _ in $(seq 1 "$runs"); do
  r=$("$bin" replay --input "$csv" --interval 1m --emit opportunities --output /dev/null --cache 2>&1 | grep -oE '[0-9]+ ticks/s' | tail -1 | awk '{print $1}')
  replay_rates+=("${r:-0}")
done
record pipeline "replay from --cache, $replay_ticks ticks (median of $runs)" "$(printf '%s\n' "${replay_rates[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')" ticks/s
rm -f "$csv" "$csv.dfcache"

say "strategy research: backtest, sweep, backtesting.py (Benchmarks/research.sh)"
case $mode in
  full) bash Benchmarks/research.sh --records "$extra" ;;
  *) bash Benchmarks/research.sh "--$mode" --records "$extra" ;;
esac

# --- the document --------------------------------------------------------------------------------
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "mode=$mode secs=$secs runs=$runs"
  echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo) × $(nproc)"
  echo "memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "os=$(. /etc/os-release; echo "$PRETTY_NAME") $(uname -r)"
  echo "swift=$(swift --version 2>&1 | head -1)"
  echo "openssl=$(openssl version)"
  echo "nginx=$(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //')"
  echo "wrk=$(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "hummingbird=hummingbird 2.28.1, swift-nio $(grep -A6 '"identity" : "swift-nio"' Benchmarks/peers/hb-peer/Package.resolved 2>/dev/null | awk -F'"' '/"version"/ {print $4; exit}')"
  echo "fastapi=$("$venv/bin/python" -c 'import fastapi, uvicorn, sys; print(f"fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, python {sys.version.split()[0]}")')"
  echo "websockets=$("$venv/bin/python" -c 'import websockets; print(f"websockets {websockets.__version__}")')"
  echo "nofile=$(ulimit -Hn)"
  echo "dongfeng=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "json_bytes=$json_bytes"
  echo "page_bytes=$page_bytes"
} >"$work/machine.txt"
mkdir -p "$(dirname "$out")"
python3 Benchmarks/report.py "$results" "$work/machine.txt" "$out" "$(dirname "$out")/performance.svg" "$extra"
say "wrote $out"
