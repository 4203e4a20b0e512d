#!/usr/bin/env bash
# Codec and ring micro-benchmarks (HTTP parser, response head, router, tick decoding vs Foundation, SPSC ring): ops/s and heap allocations per
# operation, counted by preloading ordo-one's malloc interposer. Usage: Benchmarks/codecs.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dongfeng-bench >/dev/null
lib=$(swift build -c release --show-bin-path)/libMallocInterposerSwift.so
LD_PRELOAD="$lib" "$(swift build -c release --show-bin-path)/dongfeng-bench" "${1:-200000}"
