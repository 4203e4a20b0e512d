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
# `dongfeng top` is driven in a real 80x24 terminal (Tests/DongfengCLITests/OperatorCLITests.swift).
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
# backtesting.py is the reference for `dongfeng backtest` (Tests/e2e/backtest_vs_reference.py).
.venv-tests/bin/python -c "import backtesting, sys; sys.exit(backtesting.__version__ != '0.6.6')" 2>/dev/null \
  || .venv-tests/bin/pip install -q "backtesting==0.6.6"

# The steps besides `swift test` run first, so the test runner's summary stays the last lines;
# each counts as one test in the closing line, and a failed one is named again at the end.
failed_steps=()
steps=0
step() {  # name command...
  local name=$1
  shift
  steps=$((steps + 1))
  "$@" || failed_steps+=("$name")
}
bench_smoke() {  # the harness must run end to end and write its table (smoke figures mean nothing)
  local dir ok=0
  dir=$(mktemp -d)
  echo "==> performance harness smoke run (Benchmarks/run.sh --smoke)"
  if bash Benchmarks/run.sh --smoke --out "$dir/PERFORMANCE.md" && python3 Benchmarks/check_report.py "$dir/PERFORMANCE.md"; then
    echo "performance harness: table written for every scenario and server"
  else
    ok=1
  fi
  rm -rf "$dir"
  return $ok
}
# WebSocket conformance (Autobahn cases through kosoku).
step "Autobahn conformance" bash Tests/autobahn.sh
# OpenAPI fuzzing of the live server against its own /openapi.json.
step "schemathesis" bash Tests/schemathesis.sh
# TLS scan of the live server (testssl): nothing rated MEDIUM or worse, TLS 1.2/1.3 only, ECDHE + AEAD.
step "the TLS scan" bash Tests/tls_scan.sh
# Every codec under libFuzzer with AddressSanitizer (Fuzz/run.sh): a crash, a broken property or a
# leak fails the run. FUZZ_SECONDS per target (default 30).
step "fuzzing" bash Fuzz/run.sh "${FUZZ_SECONDS:-30}"
# The unit and in-process integration suites under AddressSanitizer and ThreadSanitizer, and
# LeakSanitizer on a server run under connection churn (Tests/sanitizers.sh).
step "the sanitizers" bash Tests/sanitizers.sh address thread leaks
# The deployment artefacts (deploy/), each by its operators' tool: hadolint, docker-compose config,
# promtool (rules and their unit tests), amtool, helm lint/template, checkov, systemd-analyze.
step "the deployment artefacts" bash Tests/deploy/check.sh
# The image's runtime stage built and run with podman (a locally bootstrapped Debian base).
step "the container image" bash Tests/deploy/image.sh
# The alert rules in a real Prometheus scraping a live gateway: the feed alert fires and resolves.
step "the alert rules in a real Prometheus" bash Tests/deploy/prometheus_live.sh
# The performance harness (Benchmarks/run.sh), one second per scenario.
step "the performance harness smoke run" bench_smoke

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
for name in "${failed_steps[@]}"; do
  echo "$name failed (see above)"
  status=1
done
total=$((total + steps))
failed=$((failed + ${#failed_steps[@]}))
echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
