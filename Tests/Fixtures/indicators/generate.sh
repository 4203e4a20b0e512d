#!/usr/bin/env bash
# Regenerates the TA-Lib indicator fixtures in this folder (needs Python 3 and PyPI).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../../../.venv-talib"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "TA-Lib==0.8.2" "numpy==2.4.6" 2>/dev/null || "$venv/bin/pip" install -q ta-lib numpy
"$venv/bin/python" "$here/generate.py" "$here"
