#!/usr/bin/env bash
# deploy/prometheus/alerts.yml in a real Prometheus (Debian's) scraping a live gateway over
# HTTPS with its admin bearer token: the rules are loaded with short windows (every `for:` 2 s,
# the feed-age threshold 3 s, evaluation every second); then
#   - the target is up and the standard process metrics and dongfeng_build_info are scraped;
#   - POST /admin/feed/pause → DongfengFeedStale fires; resume → it resolves;
#   - the gateway killed → DongfengInstanceDown fires;
# each read from Prometheus's own HTTP API (/api/v1/targets, /api/v1/query, /api/v1/alerts).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v prometheus >/dev/null; then
  if [ "${CI:-}" = true ]; then echo "prometheus_live: prometheus is missing (Tests/deploy/check.sh installs it)"; exit 1; fi
  echo "!!! prometheus_live: prometheus is missing — SKIPPED (it would fail in CI)"; exit 0
fi
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
prom_pid=""
source Tests/lib/server.sh
cleanup() { dfp_stop; [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
token=prom-live-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
dfp_start "$bin" "$work" DFP_ADMIN_TOKEN="$token" DFP_SIMULATOR_TICKS_PER_SECOND=200 -- --feed simulator
printf %s "$token" >"$work/token"
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -E -e 's/^( *)for: .*/\1for: 2s/' -e 's/dongfeng_feed_last_tick_age_seconds > 60/dongfeng_feed_last_tick_age_seconds > 3/' \
  deploy/prometheus/alerts.yml >"$work/alerts.yml"
grep -q 'for: 2s' "$work/alerts.yml" && grep -q 'age_seconds > 3' "$work/alerts.yml" || { echo "prometheus_live: could not shorten the rules"; exit 1; }
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$work/alerts.yml"]
scrape_configs:
  - job_name: dongfeng
    scheme: https
    metrics_path: /admin/metrics
    authorization:
      type: Bearer
      credentials_file: $work/token
    tls_config:
      ca_file: $work/certs/dev-cert.pem
      server_name: localhost
    static_configs:
      - targets: ["127.0.0.1:$dfp_port"]
YAML
promtool check config "$work/prometheus.yml" >/dev/null
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
echo "==> prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') on :$prom_port scraping the gateway on :$dfp_port"
set +e
python3 - "$prom_port" "$dfp_port" "$token" <<'PY'
import json, ssl, sys, time, urllib.request
prom, gw, token = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl._create_unverified_context()
def api(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{prom}{path}", timeout=5) as r:
        return json.load(r)["data"]
def admin(path):
    req = urllib.request.Request(f"https://127.0.0.1:{gw}{path}", method="POST", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
        assert r.status == 200, r.status
def wait(what, cond, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            v = cond()
            if v: print(f"ok: {what} ({time.time() - t0:.1f} s)"); return v
        except Exception as e:
            last = e
        time.sleep(0.5)
    print(f"FAILED: {what} within {timeout} s"); sys.exit(1)
def alert(name):
    return [a for a in api("/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == name]
def firing(name): return any(a["state"] == "firing" for a in alert(name))
wait("the gateway is an up target", lambda: any(t["health"] == "up" for t in api("/api/v1/targets")["activeTargets"]))
wait("the rules are loaded", lambda: sum(len(g["rules"]) for g in api("/api/v1/rules")["groups"]) >= 9)
for metric in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
               "process_start_time_seconds", "dongfeng_build_info", "dongfeng_feed_last_tick_age_seconds", "dongfeng_ring_capacity"]:
    wait(f"{metric} is scraped", lambda m=metric: api(f"/api/v1/query?query={m}")["result"])
info = api("/api/v1/query?query=dongfeng_build_info")["result"][0]["metric"]
assert info.get("version") and info.get("commit"), info
print(f"ok: dongfeng_build_info version={info['version']} commit={info['commit']}")
wait("ticks flow, FeedStale is not firing", lambda: not alert("DongfengFeedStale")
     and float(api("/api/v1/query?query=dongfeng_feed_last_tick_age_seconds")["result"][0]["value"][1]) < 2)
admin("/admin/feed/pause")
wait("DongfengFeedStale fires after POST /admin/feed/pause", lambda: firing("DongfengFeedStale"))
admin("/admin/feed/resume")
wait("DongfengFeedStale resolves after POST /admin/feed/resume", lambda: not alert("DongfengFeedStale"))
assert not alert("DongfengInstanceDown"), alert("DongfengInstanceDown")
PY
status=$?
set -e
[ $status = 0 ] || { tail -20 "$work/prometheus.log"; exit 1; }
dfp_stop
set +e
python3 - "$prom_port" <<'PY'
import json, sys, time, urllib.request
prom = sys.argv[1]
t0 = time.time()
while time.time() - t0 < 60:
    with urllib.request.urlopen(f"http://127.0.0.1:{prom}/api/v1/alerts", timeout=5) as r:
        alerts = json.load(r)["data"]["alerts"]
    if any(a["labels"]["alertname"] == "DongfengInstanceDown" and a["state"] == "firing" for a in alerts):
        print(f"ok: DongfengInstanceDown fires once the gateway is gone ({time.time() - t0:.1f} s)"); sys.exit(0)
    time.sleep(0.5)
print("FAILED: DongfengInstanceDown did not fire"); sys.exit(1)
PY
status=$?
set -e
[ $status = 0 ] && echo "prometheus_live: the alert rules fire and resolve in a real Prometheus"
exit $status
