#!/usr/bin/env bash
# Journal append throughput and commit latency per fsync policy, and recovery time for 1M
# records (dongfeng-bench journal, release build, temporary folders). Usage: Benchmarks/journal.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dongfeng-bench >/dev/null
"$(swift build -c release --show-bin-path)/dongfeng-bench" journal
