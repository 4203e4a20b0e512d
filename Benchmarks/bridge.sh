#!/usr/bin/env bash
# The Redis bridge through 1, 2 and 3 gateways on one redis-server and on a 3-master Redis
# Cluster (Benchmarks/bridge.py): ticks/s and where the CPU goes. Installs redis-server from
# Debian when missing.
# Usage: Benchmarks/bridge.sh [ticks] [partitions]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
swift build -c release --product dongfeng >/dev/null
python3 Benchmarks/bridge.py "$(swift build -c release --show-bin-path)/dongfeng" "${1:-200000}" "${2:-6}"
