#!/usr/bin/env bash
# OpenAPI fuzzing: schemathesis (PyPI, in .venv-tests) against a live server's /openapi.json,
# with the simulator running (so lists have data) and an admin token. Every check runs, less
# the per-operation exceptions documented in Tests/e2e/schemathesis.toml. Fails on any 5xx,
# undocumented status, schema-violating response or other failed check.
# Usage: Tests/schemathesis.sh [max-examples-per-operation]
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-100}
py=.venv-tests/bin
[ -x "$py/schemathesis" ] || "$py/pip" install -q "schemathesis==4.32.5"
swift build --product dongfeng >/dev/null
bin="$(swift build --show-bin-path)/dongfeng"
work=$(mktemp -d)
token="schemathesis-admin-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
source Tests/lib/server.sh
trap 'dfp_stop; rm -rf "$work"' EXIT
dfp_start "$bin" "$work" DFP_ADMIN_TOKEN="$token" -- --feed simulator
port=$dfp_port
pid=$dfp_pid
sleep 2  # let the simulator make some bars and events
echo "==> schemathesis ($examples examples per operation) against https://127.0.0.1:$port/openapi.json"
# One worker: CPython 3.11's ast.parse, which hypothesis calls, is not safe across threads.
set +e
SCHEMATHESIS_HOOKS=Tests.e2e.schemathesis_hooks PYTHONPATH=. "$py/schemathesis" --config-file Tests/e2e/schemathesis.toml \
  run "https://127.0.0.1:$port/openapi.json" --tls-verify false -H "Authorization: Bearer $token" \
  -n "$examples" --seed 20261125 -w 1 >"$work/report.txt" 2>&1
status=$?
set -e
if [ "$status" != 0 ]; then cat "$work/report.txt"; else tail -12 "$work/report.txt"; fi
kill -0 $pid 2>/dev/null || { echo "schemathesis: the server died"; cat "$work/server.log"; exit 1; }
exit "$status"
