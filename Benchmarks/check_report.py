#!/usr/bin/env python3
"""Checks a PERFORMANCE.md from Benchmarks/run.sh: every HTTP scenario has a row for every server
with a positive req/s and a latency, the end-to-end, fan-out (beside the Python peer), memory,
pipeline and resource figures all have values, the goals table is there, and the chart exists.
Usage: check_report.py PERFORMANCE.md (exit 1 with the reason when something is missing)."""
import os
import re
import sys

path = sys.argv[1]
text = open(path).read()
servers = ["Dongfeng", "nginx", "Hummingbird 2 (SwiftNIO)", "FastAPI + uvicorn"]
sections = re.split(r"^### ", text.split("\n## End to end")[0], flags=re.M)[1:]
every_run = [s for s in sections if s.startswith("Every run")]
sections = [s for s in sections if not s.startswith("Every run")]
problems = []
if len(sections) != 7:
    problems.append(f"expected 7 scenario tables, found {len(sections)}")
if not every_run or not re.search(r"^\| json-live \| Dongfeng \|", every_run[0], flags=re.M):
    problems.append("no table of every run (with Dongfeng's live runs)")
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
for heading, needle in [("## End to end", "| e2e: "), ("## WebSocket memory", "| memory: "),
                        ("## Where an idle connection's memory goes", "| heap: WSS"),
                        ("## Pipeline and replay", "| pipeline: "), ("## Resources", "start-up to first 200")]:
    if heading not in text or needle not in text:
        problems.append(f"no {needle.strip('| :')} figures under {heading}")
for line in text.splitlines():
    if line.startswith(("| e2e: ", "| memory: ", "| heap: ", "| pipeline: ", "| resources: ")) and "| — " in line:
        problems.append(f"a measure without a value: {line}")
# The fan-out table: every size has Dongfeng's msgs/s and latency; the sizes run against the
# Python peer have its figures too (at least one must).
fan = text.split("## WebSocket fan-out")[1].split("\n## ")[0] if "## WebSocket fan-out" in text else ""
fan_rows = [l for l in fan.splitlines() if re.match(r"\| \d+ subscribers", l)]
if not fan_rows:
    problems.append("no fan-out rows")
compared = 0
for row in fan_rows:
    cells = [c.strip() for c in row.strip("|").split("|")]
    if cells[1] == "—" or cells[5] == "—":
        problems.append(f"fan-out without Dongfeng's figures: {row}")
    if cells[2] != "—":
        compared += 1
if fan_rows and compared == 0:
    problems.append("no fan-out size was compared with the Python websockets peer")
if not os.path.exists(os.path.join(os.path.dirname(path) or ".", "performance.svg")):
    problems.append("no performance.svg beside it")
for p in problems:
    print("check_report:", p)
sys.exit(1 if problems else 0)
