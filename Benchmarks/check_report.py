#!/usr/bin/env python3
"""Checks a PERFORMANCE.md from Benchmarks/run.sh: every scenario has a row for every server
with a positive req/s and a latency, the goals table is there, and the chart exists.
Usage: check_report.py PERFORMANCE.md (exit 1 with the reason when something is missing)."""
import os
import re
import sys

path = sys.argv[1]
text = open(path).read()
servers = ["Dongfeng", "nginx", "Hummingbird 2 (SwiftNIO)", "FastAPI + uvicorn"]
sections = re.split(r"^### ", text, flags=re.M)[1:]
problems = []
if len(sections) != 5:
    problems.append(f"expected 5 scenario tables, found {len(sections)}")
for section in sections:
    title = section.splitlines()[0]
    for server in servers:
        row = next((l for l in section.splitlines() if l.startswith(f"| {server} |")), None)
        if row is None:
            problems.append(f"{title}: no row for {server}")
            continue
        cells = [c.strip() for c in row.strip("|").split("|")]
        try:
            rps = float(cells[1].replace(",", ""))
            p50 = float(cells[3])
        except (ValueError, IndexError):
            problems.append(f"{title}: unreadable row {row}")
            continue
        if rps <= 0 or p50 <= 0:
            problems.append(f"{title}: {server} has no figures ({row})")
if "## Goals" not in text:
    problems.append("no goals table")
if not os.path.exists(os.path.join(os.path.dirname(path) or ".", "performance.svg")):
    problems.append("no performance.svg beside it")
for p in problems:
    print("check_report:", p)
sys.exit(1 if problems else 0)
