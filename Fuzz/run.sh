#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/Package.swift, -sanitize=fuzzer,address) and runs each for
# SECONDS (default 30) from its committed seed corpus (Fuzz/Corpus/TARGET). A crash, a failed
# property (precondition), an AddressSanitizer report, a leak, a timeout (> 10 s for one input)
# or running out of memory (> 2 GiB) fails the run; the input is kept under
# .build-fuzz/artifacts/ and printed in hex, to be turned into a regression test.
# Usage: Fuzz/run.sh [SECONDS] [TARGET ...]   (targets: FuzzHTTP FuzzWSFrames FuzzInflate
#        FuzzTicks FuzzRules FuzzRESP FuzzStream; all by default)
#        FUZZ_RUNS=N Fuzz/run.sh ...  stops each target after N executions instead of a time
#        (the long runs: FUZZ_RUNS=10000000 Fuzz/run.sh 0)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzHTTP FuzzWSFrames FuzzInflate FuzzTicks FuzzRules FuzzRESP FuzzStream)
scratch=$PWD/.build-fuzz
echo "==> building the fuzz targets (release, -sanitize=fuzzer,address)"
(cd Fuzz && swift build -c release --scratch-path "$scratch" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | grep -vE '^\[|^Building|^Compiling|^warning: .*unhandled' || true)
bin=$(cd Fuzz && swift build -c release --scratch-path "$scratch" --show-bin-path)
status=0
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "fuzz: $t was not built"; status=1; continue; }
  corpus="$scratch/corpus/$t"  # grows between runs on this machine; the seeds are committed
  mkdir -p "$corpus" "$scratch/artifacts"
  limit=(-max_total_time="$seconds"); budget="$seconds s"
  [ -n "${FUZZ_RUNS:-}" ] && { limit=(-runs="$FUZZ_RUNS"); budget="$FUZZ_RUNS executions"; }
  log="$scratch/$t.log"
  echo "==> $t: $budget"
  if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1 "$bin/$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$t-" "$corpus" "Fuzz/Corpus/$t" >"$log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    echo "    ok: $runs executions, $cov, corpus $(ls "$corpus" | wc -l) inputs"
  else
    status=1
    echo "    FAILED: $t"
    grep -E -A3 'ERROR|Fatal error|SUMMARY|deadly' "$log" | head -30 | sed 's/^/    /'
    for a in "$scratch/artifacts/$t-"*; do
      [ -f "$a" ] && { echo "    input $a:"; head -c 512 "$a" | od -An -tx1 | head -8 | sed 's/^/     /'; }
    done
  fi
done
exit $status
