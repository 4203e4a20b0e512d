#!/usr/bin/env bash
# Where one HTTPS request's cost goes: Dongfeng (its opportunity list, feed paused and simulator
# live at 5k ticks/s) beside the tuned nginx (Benchmarks/peers/nginx.conf.in) answering the same
# bytes with the same certificate. Per request:
#   - system calls, by call (`strace -c` on every thread of the server while wrk runs, server on
#     core 0, wrk on core 1; strace slows both alike, the counts per request are what is kept);
#   - TLS records and bytes per response, as a client reads them off the socket
#     (Benchmarks/per_request.py records);
#   - instructions, and calls to malloc and to Swift's retain/release (valgrind --tool=callgrind,
#     counters zeroed after a warm-up, then a wrk run; feed paused and nginx only: under valgrind
#     the live simulator could not keep its rate).
# Writes docs/PER_REQUEST.md. Usage: Benchmarks/per_request.sh [--out FILE]
# Installs strace and valgrind from Debian when missing; needs the nginx and wrk that
# Benchmarks/run.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/PER_REQUEST.md
[ "${1:-}" = "--out" ] && out=$2
say() { echo "==> $*" >&2; }
need=()
command -v strace >/dev/null || need+=(strace)
command -v valgrind >/dev/null || need+=(valgrind)
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} (Debian)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
mkdir -p "$work/www" "$work/nginx-tmp"
chmod 755 "$work" "$work/www"
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
path="/api/v1/opportunities?limit=20"
token="bench-admin-token-0123456789"
admin() { curl -sk -X POST -H "Authorization: Bearer $token" "https://127.0.0.1:$dfp_port/admin/feed/$1" >/dev/null; }
requests_of() { awk '/requests in/ {print $1}' "$1"; }
tasks() { ls "/proc/$1/task" | sed 's/^/-p /' | tr '\n' ' '; }

say "Dongfeng with a full opportunity list (simulator), pinned to core 0"
dfp_start "$bin" "$work" DFP_SIMULATOR_TICKS_PER_SECOND=5000 DFP_ADMIN_TOKEN=$token -- --feed simulator >/dev/null
taskset -a -p -c 0 "$dfp_pid" >/dev/null
for _ in $(seq 1 240); do
  n=$(curl -sk "https://127.0.0.1:$dfp_port$path" | grep -o '"seq"' | wc -l || true)
  [ "$n" -ge 20 ] && break
  sleep 0.5
done
admin pause
sleep 0.3
curl -sk "https://127.0.0.1:$dfp_port$path" >"$work/www/opportunities.json"
bytes=$(wc -c <"$work/www/opportunities.json")
[ "$bytes" -gt 1000 ] || { echo "the opportunity list stayed short ($bytes bytes)" >&2; exit 1; }
nginx_port=$(free_port)
sed -e "s|@WORK@|$work|g" -e "s|@PORT@|$nginx_port|g" -e "s|@CERT@|$work/certs/dev-cert.pem|g" \
  -e "s|@KEY@|$work/certs/dev-key.pem|g" Benchmarks/peers/nginx.conf.in >"$work/nginx.conf"
taskset -c 0 /usr/sbin/nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
nginx_main=$!
pids+=("$nginx_main")
for _ in $(seq 1 100); do curl -skf -o /dev/null "https://127.0.0.1:$nginx_port$path" && break; sleep 0.05; done
nginx_pids="$nginx_main $(pgrep -P "$nginx_main" | tr '\n' ' ')"

results="$work/results.txt"
: >"$results"
syscalls() {  # LABEL PORT PIDS...
  local label=$1 port=$2
  shift 2
  local args=""
  for p in "$@"; do args+="$(tasks "$p") "; done
  # shellcheck disable=SC2086
  strace -c -q -o "$work/strace-$label.txt" $args &
  local st=$!
  sleep 1
  taskset -c 1 wrk -t1 -c16 -d5s "https://127.0.0.1:$port$path" >"$work/wrk-$label.txt"
  kill -INT "$st"
  wait "$st" || true
  echo "$label strace $(python3 Benchmarks/per_request.py strace "$work/strace-$label.txt" "$(requests_of "$work/wrk-$label.txt")")" >>"$results"
  echo "$label records $(python3 Benchmarks/per_request.py records "$port" "$path" 200)" >>"$results"
}
say "system calls and TLS records per request"
syscalls dongfeng-paused "$dfp_port" "$dfp_pid"
admin resume
sleep 1
syscalls dongfeng-live "$dfp_port" "$dfp_pid"
admin pause
# shellcheck disable=SC2086
syscalls nginx "$nginx_port" $nginx_pids

say "instructions and allocations per request (callgrind)"
callgrind() {  # LABEL PORT COMMAND... (environment for the server: set on the call)
  local label=$1 port=$2
  shift 2
  taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$work/cg-$label.out" "$@" >"$work/vg-$label.log" 2>&1 &
  local vg=$!
  for _ in $(seq 1 600); do curl -skf -o /dev/null "https://127.0.0.1:$port$path" && break; sleep 0.1; done
  # nginx's run sends what this Dongfeng (its store restored from the journal) answers.
  [ "$label" = nginx ] || curl -sk "https://127.0.0.1:$port$path" >"$work/www/opportunities.json"
  taskset -c 1 wrk -t1 -c4 -d5s "https://127.0.0.1:$port$path" >/dev/null  # warm-up
  callgrind_control -z "$vg" >/dev/null
  taskset -c 1 wrk -t1 -c4 -d10s "https://127.0.0.1:$port$path" >"$work/wrk-cg-$label.txt"
  callgrind_control -d "$vg" >/dev/null
  sleep 1
  # The dump made on request (cg-LABEL.out.N): counters zeroed after the warm-up.
  local dump
  dump=$(ls -t "$work/cg-$label.out."* | head -1)
  kill "$vg" 2>/dev/null || true
  wait "$vg" 2>/dev/null || true
  echo "$label callgrind $(python3 Benchmarks/per_request.py callgrind "$dump" "$(requests_of "$work/wrk-cg-$label.txt")")" >>"$results"
}
dfp_stop
# Valgrind 3.19 (Debian 12) cannot read the DWARF of a Swift 6 binary: it runs a copy without
# the debug sections (the symbol table, which names the functions, stays).
objcopy --strip-debug "$bin" "$work/dongfeng-nodebug"
cg_port=$(free_port)
DFP_TLS_CERT_DIR="$work/certs" callgrind dongfeng-paused "$cg_port" "$work/dongfeng-nodebug" serve --port "$cg_port" --data-dir "$work/data" --feed none
cg_port=$(free_port)
sed -e "s|listen 127.0.0.1:$nginx_port|listen 127.0.0.1:$cg_port|" -e 's|^daemon off;|daemon off;\nmaster_process off;|' \
  -e "s|pid $work/nginx.pid|pid $work/nginx-cg.pid|" "$work/nginx.conf" >"$work/nginx-cg.conf"
callgrind nginx "$cg_port" /usr/sbin/nginx -c "$work/nginx-cg.conf" -p "$work"

python3 - "$results" "$out" "$bytes" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'EOF'
import json, sys, datetime
results, out, size, commit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
data = {}
for line in open(results):
    label, kind, payload = line.split(" ", 2)
    data.setdefault(label, {})[kind] = json.loads(payload)
labels = [("dongfeng-paused", "Dongfeng, feed paused"), ("dongfeng-live", "Dongfeng, simulator live"), ("nginx", "nginx (tuned)")]
def cell(label, kind, key, digits=2):
    v = data.get(label, {}).get(kind, {}).get(key)
    return "—" if v is None else f"{v:,.{digits}f}"
def calls(label, names):
    by = data.get(label, {}).get("strace", {}).get("by_call")
    return "—" if by is None else f"{sum(by.get(n, 0) for n in names):.2f}"
lines = ["# What one HTTPS request costs: Dongfeng beside nginx", "",
         "Generated by `Benchmarks/per_request.sh`; do not edit by hand. "
         f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}, commit {commit}, on the machine of docs/PERFORMANCE.md.", "",
         f"`GET /api/v1/opportunities?limit=20`, {size} bytes of JSON. Dongfeng answers from its query store (the answer "
         "cached until the store moves; live, the simulator at 5k ticks/s moves it every few ms); nginx (the tuned "
         "configuration of the HTTPS comparison: `open_file_cache`, `sendfile`, `tcp_nopush`, `tcp_nodelay`) sends the "
         "same bytes from a file. Same certificate, TLS settings and keep-alive client. System calls: `strace -c` on "
         "every thread of the server (Dongfeng's pipeline, simulator and journal included) while wrk (one thread, 16 "
         "connections, 5 s) runs, divided by the requests wrk completed. TLS records: what a client reads off the "
         "socket for each answer (200 answers on one connection). Instructions and calls: callgrind over a 10 s wrk "
         "run (4 connections) after a warm-up, per completed request (everything the process ran, all threads).", "",
         "| per request | " + " | ".join(n for _, n in labels) + " |", "|---|" + "---:|" * len(labels)]
rows = [("system calls", lambda l: cell(l, "strace", "total")),
        ("  read / recvfrom", lambda l: calls(l, ["read", "recvfrom", "readv"])),
        ("  write / writev / sendmsg / sendfile", lambda l: calls(l, ["write", "writev", "sendmsg", "sendto", "sendfile"])),
        ("  epoll_wait / epoll_ctl", lambda l: calls(l, ["epoll_wait", "epoll_pwait", "epoll_ctl"])),
        ("  futex", lambda l: calls(l, ["futex"])),
        ("TLS records per response", lambda l: cell(l, "records", "records")),
        ("bytes on the wire per response", lambda l: cell(l, "records", "bytes", 0)),
        ("instructions (callgrind)", lambda l: cell(l, "callgrind", "instructions", 0)),
        ("malloc-family calls", lambda l: cell(l, "callgrind", "allocations")),
        ("  made by OpenSSL (CRYPTO_malloc / CRYPTO_zalloc)", lambda l: cell(l, "callgrind", "allocations_openssl")),
        ("  made by the server's own code", lambda l: cell(l, "callgrind", "allocations_own")),
        ("swift_retain calls", lambda l: cell(l, "callgrind", "retains")),
        ("swift_release calls", lambda l: cell(l, "callgrind", "releases"))]
for name, f in rows:
    lines.append(f"| {name} | " + " | ".join(f(l) for l, _ in labels) + " |")
lines += ["", "Allocations: the server's own code is everything that calls malloc other than libcrypto's "
          "wrappers. Dongfeng's cached answer allocates nothing on the request path; what its own-code "
          "figure counts the pipeline's clock tick and engine checkpoint, which run on their own thread "
          "whether or not requests come, and accepting the client's connections. OpenSSL 3.0 makes its calls inside `SSL_read_ex`/`SSL_write_ex`:", "",
          "- four 40-byte `WPACKET` sub-packet headers per request: one for each record it decrypts and "
          "three for each record it encrypts;",
          "- the read and the write record buffers, allocated again for each request because the server sets "
          "`SSL_MODE_RELEASE_BUFFERS`. That mode gives the buffers back while a connection is idle, so an idle "
          "connection holds neither (each is about 17 KB: a full 16 KB record plus its header and tag).", "",
          "nginx sets the same mode and its OpenSSL row is about the same; its own calls come from its per-request memory pool."]
lines += ["", "System calls per request, every call (strace):", ""]
for label, title in labels:
    by = data.get(label, {}).get("strace", {}).get("by_call", {})
    if by:
        lines.append(f"- {title}: " + ", ".join(f"{k} {v:.2f}" for k, v in by.items() if v >= 0.005))
open(out, "w").write("\n".join(lines) + "\n")
EOF
say "wrote $out"
cat "$results" >&2
