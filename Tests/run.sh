#!/usr/bin/env bash
# Runs every test of the project: installs what the tests need (Debian packages), builds, and
# runs the Swift test suites, whose integration tests drive the real server with curl and
# openssl s_client. With CI=true a missing tool is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v curl >/dev/null || need_pkgs+=(curl)
command -v openssl >/dev/null || need_pkgs+=(openssl)
pkg-config --exists openssl 2>/dev/null || need_pkgs+=(libssl-dev)
pkg-config --exists zlib 2>/dev/null || need_pkgs+=(zlib1g-dev)
# The page's browser test (Tests/e2e/dashboard_test.py): headless chromium, its driver, and a CJK
# font so the Chinese page shows text rather than boxes.
# A real Redis for the Redis client and bridge tests (each test starts its own on a free port).
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v chromium >/dev/null || need_pkgs+=(chromium)
[ -x /usr/bin/chromedriver ] || need_pkgs+=(chromium-driver)
fc-list :lang=zh 2>/dev/null | grep -q . || need_pkgs+=(fonts-wqy-microhei)
# `dongfeng top` is driven in a real 80x24 terminal (Tests/GatewayTests/OperatorCLITests.swift).
command -v tmux >/dev/null || need_pkgs+=(tmux)
# The TLS scan (Tests/tls_scan.sh).
command -v testssl >/dev/null || need_pkgs+=(testssl.sh)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "==> installing ${need_pkgs[*]}"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  fi
fi

# Python tools for the end-to-end checks (TA-Lib is the reference for indicators; websockets is a
# third-party WebSocket client for Tests/e2e/ws_e2e.py), pinned.
if [ ! -x .venv-tests/bin/python ] || ! .venv-tests/bin/python -c "import talib" 2>/dev/null; then
  echo "==> creating .venv-tests (TA-Lib, numpy)"
  command -v python3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null; }
  python3 -m venv .venv-tests
  .venv-tests/bin/pip install -q "TA-Lib==0.8.2" "numpy==2.4.6"
fi
[ -x .venv-tests/bin/kosoku ] || .venv-tests/bin/pip install -q "kosoku==0.1.0"
[ -x .venv-tests/bin/schemathesis ] || .venv-tests/bin/pip install -q "schemathesis==4.32.5"
.venv-tests/bin/python -c "import websockets, sys; sys.exit(websockets.__version__ != '17.4')" 2>/dev/null \
  || .venv-tests/bin/pip install -q "websockets==17.4"
# Prometheus's own text-format parser checks /admin/metrics.
.venv-tests/bin/python -c "import prometheus_client" 2>/dev/null || .venv-tests/bin/pip install -q "prometheus-client==0.21.1"
# Selenium drives chromium for Tests/e2e/dashboard_test.py.
.venv-tests/bin/python -c "import selenium, sys; sys.exit(selenium.__version__ != '4.51.0')" 2>/dev/null \
  || .venv-tests/bin/pip install -q "selenium==4.51.0"

# WebSocket conformance first, so the test runner's summary stays the last lines.
autobahn_status=0
bash Tests/autobahn.sh || autobahn_status=$?
# OpenAPI fuzzing of the live server against its own /openapi.json.
schemathesis_status=0
bash Tests/schemathesis.sh || schemathesis_status=$?

# TLS scan of the live server (testssl): nothing rated MEDIUM or worse, TLS 1.2/1.3 only, ECDHE + AEAD.
tls_status=0
bash Tests/tls_scan.sh || tls_status=$?

# Every codec under libFuzzer with AddressSanitizer (Fuzz/run.sh): a crash, a broken property or a
# leak fails the run. FUZZ_SECONDS per target (default 30).
fuzz_status=0
bash Fuzz/run.sh "${FUZZ_SECONDS:-30}" || fuzz_status=$?

# The performance harness (Benchmarks/run.sh), one second per scenario: it must still run end to
# end against every peer and write its table (figures from a smoke run mean nothing).
bench_status=0
smoke_dir=$(mktemp -d)
echo "==> performance harness smoke run (Benchmarks/run.sh --smoke)"
if bash Benchmarks/run.sh --smoke --out "$smoke_dir/PERFORMANCE.md" \
  && python3 Benchmarks/check_report.py "$smoke_dir/PERFORMANCE.md"; then
  echo "performance harness: table written for every scenario and server"
else
  bench_status=1
fi
rm -rf "$smoke_dir"

echo "==> swift build"
swift build --build-tests
echo "==> swift test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for any reader: "N passed, N failed, N skipped".
summary=$(grep -E "Executed [0-9]+ tests?, with" "$log" | tail -1)
total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
skipped=$(echo "$summary" | grep -oE '[0-9]+ tests? skipped' | grep -oE '^[0-9]+' || echo 0)
if [ -z "$summary" ]; then
  echo "no XCTest summary found: the test run did not complete"
  exit 1
fi
if [ "$autobahn_status" != 0 ]; then
  echo "Autobahn conformance failed (see above)"
  status=1
  failed=$((failed + 1))
fi
if [ "$schemathesis_status" != 0 ]; then
  echo "schemathesis found failures (see above)"
  status=1
  failed=$((failed + 1))
fi
if [ "$tls_status" != 0 ]; then
  echo "the TLS scan found problems (see above)"
  status=1
  failed=$((failed + 1))
fi
if [ "$fuzz_status" != 0 ]; then
  echo "a fuzz target failed (see above)"
  status=1
  failed=$((failed + 1))
fi
if [ "$bench_status" != 0 ]; then
  echo "the performance harness smoke run failed (see above)"
  status=1
  failed=$((failed + 1))
fi
echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
