#!/usr/bin/env bash
# What exact crash recovery costs: the worker's ticks/s with and without the input journal
# (journal.inputs), checkpoint capture/encode/write for 8 and 2,000 symbols, and start-up replay
# (dongfeng-bench recovery, release build, temporary folders). Usage: Benchmarks/recovery.sh [TICKS]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dongfeng-bench >/dev/null
"$(swift build -c release --show-bin-path)/dongfeng-bench" recovery "${1:-1000000}"
