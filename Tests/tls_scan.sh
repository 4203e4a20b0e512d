#!/usr/bin/env bash
# TLS scan of a live server with testssl (Debian's testssl.sh 3.0.x): protocols, ciphers, forward
# secrecy, compression, renegotiation, known vulnerabilities (Heartbleed, ROBOT, CRIME, BREACH,
# POODLE, SWEET32, LUCKY13, ...), header checks. Fails on any finding rated MEDIUM or worse,
# except the ones a self-signed development certificate makes by nature (it is not in a trust
# store and has no CRL/OCSP address); besides, asserts by name: only TLS 1.2 and 1.3 offered,
# no non-forward-secret or non-AEAD suite, no TLS compression, no client renegotiation.
# Usage: Tests/tls_scan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v testssl >/dev/null || {
  echo "tls_scan: testssl is missing (apt-get install testssl.sh; Tests/run.sh installs it)"
  exit 1
}
swift build -c release --product dongfeng >/dev/null
bin="$(swift build -c release --show-bin-path)/dongfeng"
work=$(mktemp -d)
source Tests/lib/server.sh
trap 'dfp_stop; rm -rf "$work"' EXIT
dfp_start "$bin" "$work" -- --feed none
echo "==> testssl $(testssl --version 2>/dev/null | grep -oE 'testssl +[0-9.]+' | head -1 | awk '{print $2}') against 127.0.0.1:$dfp_port"
testssl --quiet --warnings off --color 0 --sneaky --jsonfile "$work/scan.json" "127.0.0.1:$dfp_port" >"$work/scan.txt" 2>&1 || true
# Each cipher suite offered, per protocol (not part of the default run).
testssl --quiet --warnings off --color 0 --sneaky -E --jsonfile "$work/ciphers.json" "127.0.0.1:$dfp_port" >>"$work/scan.txt" 2>&1 || true
kill -0 "$dfp_pid" 2>/dev/null || { echo "tls_scan: the server died during the scan"; cat "$work/server.log"; exit 1; }
python3 - "$work/scan.json" "$work/ciphers.json" <<'PY'
import json, sys
findings = []
for path in sys.argv[1:]:
    findings += json.load(open(path))
by_id = {f["id"]: f for f in findings}
# A self-signed development certificate is, by nature, not trusted and not revocable.
excepted = {"cert_chain_of_trust", "cert_revocation", "cert_trust"}
rank = {"MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
problems = [f"{f['severity']} {f['id']}: {f['finding']}" for f in findings
            if rank.get(f.get("severity"), 0) >= 2 and f["id"] not in excepted
            and not f["id"].startswith("cert_chain_of_trust")]
def finding(key):
    return by_id.get(key, {}).get("finding", "")
for proto in ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]:
    if "not offered" not in finding(proto):
        problems.append(f"{proto} is offered ({finding(proto)!r})")
for proto in ["TLS1_2", "TLS1_3"]:
    if not finding(proto).startswith("offered"):
        problems.append(f"{proto} is not offered ({finding(proto)!r})")
for key in ["cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA",
            "cipherlist_AVERAGE", "cipherlist_OBSOLETED"]:
    if key in by_id and "not offered" not in finding(key) and "not" not in finding(key):
        problems.append(f"{key}: {finding(key)}")
ciphers = [f for f in findings if f["id"].startswith("cipher-tls1_2")]
if not ciphers:
    problems.append("the scan listed no TLS 1.2 cipher suite")
for f in ciphers:
    name = f["finding"]
    if not (("ECDHE" in name or "DHE" in name) and ("GCM" in name or "CHACHA20" in name)):
        problems.append(f"TLS 1.2 suite without forward secrecy or AEAD: {name}")
if "not" not in finding("CRIME_TLS").lower() and finding("CRIME_TLS"):
    problems.append(f"TLS compression: {finding('CRIME_TLS')}")
reneg = finding("secure_client_renego")
if reneg and "not vulnerable" not in reneg.lower():
    problems.append(f"client-initiated renegotiation: {reneg}")
print(f"tls_scan: {len(findings)} findings read; protocols: " + ", ".join(
    f"{p} {finding(p).split()[0] if finding(p) else '?'}" for p in ["TLS1", "TLS1_1", "TLS1_2", "TLS1_3"]))
print("tls_scan: TLS 1.2 suites: " + ", ".join(f["finding"].split()[3] for f in ciphers if len(f["finding"].split()) > 3))
print("tls_scan: rated MEDIUM or worse (less the self-signed certificate's own): " + str(len([p for p in problems if p.split()[0] in rank])))
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
