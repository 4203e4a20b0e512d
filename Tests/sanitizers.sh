#!/usr/bin/env bash
# The unit and in-process integration suites under AddressSanitizer and ThreadSanitizer (each
# in its own scratch folder, .build-asan / .build-tsan), then a leak check of a server run: the
# ASan build of `dongfeng` serves ROUNDS and 10 × ROUNDS rounds of connection churn
# (Tests/e2e/churn.py: requests, keep-alive, WebSocket with deflate, malformed requests, dropped
# handshakes) and exits; LeakSanitizer's report must not grow with the number of connections.
# The tests that drive external programs at full speed (browser, kill -9 rounds, fail-over, hostile
# clients, the operator CLI in tmux) run in the normal build only: under a sanitizer their
# timing is what they would measure.
# Usage: Tests/sanitizers.sh [address|thread|leaks ...] (all three by default)
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(address thread leaks)
skip='DashboardBrowserTests|CrashRecoveryTests|FailoverScriptTests|HostileClientTests|OperatorCLITests|ExternalWebSocketTests'
status=0
summary() {  # log → the XCTest closing line
  grep -E "Executed [0-9]+ tests?, with" "$1" | tail -1 | sed 's/^[[:space:]]*//'
}
for kind in "${kinds[@]}"; do
  case $kind in
    address|thread)
      scratch=.build-tsan
      [ "$kind" = address ] && scratch=.build-asan
      echo "==> swift test --sanitize=$kind (scratch $scratch)"
      swift build --build-tests --sanitize="$kind" --scratch-path "$scratch" 2>&1 | grep -E "error|warning: .*sanitiz" || true
      log=$(mktemp)
      set +e
      # halt_on_error: the first report fails the run, with its stack in the log.
      ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" --disable-swift-testing --skip "$skip" >"$log" 2>&1
      rc=$?
      set -e
      if [ $rc -ne 0 ] || grep -qE "ERROR: (AddressSanitizer|ThreadSanitizer)|WARNING: ThreadSanitizer" "$log"; then
        status=1
        echo "    FAILED under $kind: $(summary "$log")"
        { grep -E -B2 -A30 "(ERROR|WARNING): (AddressSanitizer|ThreadSanitizer)" "$log" || true; } | head -80 | sed 's/^/    /'
        { grep -E "error:|failed \(" "$log" || true; } | head -20 | sed 's/^/    /'
      else
        echo "    ok under $kind: $(summary "$log")"
      fi
      rm -f "$log"
      ;;
    leaks)
      echo "==> leak check: the ASan build of dongfeng under connection churn, LeakSanitizer at exit"
      swift build --product dongfeng --sanitize=address --scratch-path .build-asan 2>&1 | grep -E "error" || true
      bin="$(swift build --sanitize=address --scratch-path .build-asan --show-bin-path)/dongfeng"
      source Tests/lib/server.sh
      work=$(mktemp -d)
      leaked=()
      for rounds in 20 200; do
        # No feed: events in the store would grow with the run's length, not with its connections.
        ASAN_OPTIONS=detect_leaks=1:halt_on_error=0 dfp_start "$bin" "$work" -- --feed none
        .venv-tests/bin/python Tests/e2e/churn.py "$dfp_port" "$rounds" || status=1
        dfp_stop
        bytes=$(grep -oE 'SUMMARY: AddressSanitizer: [0-9]+ byte' "$work/server.log" | grep -oE '[0-9]+' || echo 0)
        leaked+=("$bytes")
        echo "    $((rounds * 6)) connections: $bytes bytes leaked at exit"
        # The largest few, to read (what the process keeps to its end shows here too).
        if [ "$bytes" != 0 ]; then { grep -E -A6 "^(Direct|Indirect) leak" "$work/server.log" || true; } | head -24 | sed 's/^/      /'; fi
        # Memory errors (use after free, overflow) are AddressSanitizer's; leaks are LeakSanitizer's.
        if grep -q "ERROR: AddressSanitizer" "$work/server.log"; then
          status=1
          { grep -A20 "ERROR: AddressSanitizer" "$work/server.log" || true; } | head -30 | sed 's/^/      /'
        fi
      done
      # Per-connection leaks grow with the connections; a fixed cost of the process does not
      # (what the server holds until exit shows in both runs). The smallest leak is 16 bytes, so
      # less than a byte per extra connection is no leak per connection.
      if [ $(( leaked[1] - leaked[0] )) -ge 1080 ]; then
        echo "    FAILED: leaks grow with connections (${leaked[0]} → ${leaked[1]} bytes for 10× the connections)"
        status=1
      else
        echo "    ok: no leak per connection (${leaked[0]} → ${leaked[1]} bytes for 10× the connections)"
      fi
      rm -rf "$work"
      ;;
    *) echo "usage: Tests/sanitizers.sh [address|thread|leaks ...]"; exit 2 ;;
  esac
done
exit $status
