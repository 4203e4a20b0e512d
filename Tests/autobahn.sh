#!/usr/bin/env bash
# Autobahn WebSocket conformance (cases 1–7 and 9–13, run by kosoku from PyPI) against a release
# build of the server in its test-only echo mode on a plain-HTTP port. Fails on any case that is
# not OK / NON-STRICT / INFORMATIONAL. Usage: Tests/autobahn.sh [case-pattern ...]
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv-tests/bin
[ -x "$py/kosoku" ] || "$py/pip" install -q "kosoku==0.1.0"
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
source Tests/lib/server.sh
trap 'dfp_stop; rm -rf "$work"' EXIT
dfp_start "$bin" "$work" DFP_PLAIN_HTTP_ENABLED=true DFP_PLAIN_HTTP_MODE=serve DFP_PLAIN_HTTP_PORT=0 \
  DFP_TESTING_WEBSOCKET_ECHO=true -- --feed none
port=$dfp_plain_port
[ -n "$port" ] || { cat "$work/server.log"; echo "autobahn: no plain-HTTP port"; exit 1; }
patterns=("$@")
[ ${#patterns[@]} -gt 0 ] || patterns=('1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '9.*' '10.*' '12.*' '13.*')
args=()
for p in "${patterns[@]}"; do args+=(-i "$p"); done
echo "==> Autobahn (kosoku) ${patterns[*]} against 127.0.0.1:$port"
"$py/kosoku" -m fuzzingclient -p 4 "${args[@]}" -o "$work/report" "127.0.0.1:$port" 2>&1 | tail -20
# A tally by verdict, so the log shows how the cases passed (and which did not).
"$py/python" - "$work/report" <<'PY'
import collections, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
index = next(root.rglob("index.json"), None)
if index is None:
    print("autobahn: no index.json in the report"); sys.exit(0)
tally = collections.Counter()
for agent in json.loads(index.read_text()).values():
    for case, r in agent.items():
        tally[r["behavior"]] += 1
        if r["behavior"] not in ("OK", "NON-STRICT", "INFORMATIONAL"):
            print(f"  {case}: {r['behavior']} (close: {r.get('behaviorClose')})")
print("autobahn verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
PY
