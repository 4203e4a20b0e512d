# Sourced by the test and benchmark scripts: runs a dongfeng binary on free ports and stops it.
#   dfp_start BIN WORKDIR [VAR=value ...] -- [serve arguments ...]
# starts `BIN serve --port 0 ...` with the environment given (plus a certificate folder in
# WORKDIR), waits for its "listening on" line and sets dfp_pid, dfp_port (HTTPS) and
# dfp_plain_port (when plain HTTP is on); the log is WORKDIR/server.log. dfp_stop ends it.
dfp_pid=""
dfp_start() {
  local bin=$1 work=$2
  shift 2
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
  [ "${1:-}" = "--" ] && shift
  dfp_stop
  # Emptied here, not by the redirect below: that one happens in the background job, and until it
  # does the wait loop would read the previous server's port from the old log.
  : >"$work/server.log"
  env "${vars[@]}" DFP_TLS_CERT_DIR="$work/certs" "$bin" serve --port 0 --data-dir "$work/data" --log-level info "$@" \
    >"$work/server.log" 2>&1 &
  dfp_pid=$!
  dfp_port=""
  dfp_plain_port=""
  for _ in $(seq 1 1000); do
    dfp_port=$(grep -oE 'listening on https://[^ ]+:[0-9]+' "$work/server.log" | grep -oE '[0-9]+$' || true)
    [ -n "$dfp_port" ] && break
    kill -0 "$dfp_pid" 2>/dev/null || break
    sleep 0.01
  done
  [ -n "$dfp_port" ] || { cat "$work/server.log" >&2; echo "the server did not start" >&2; return 1; }
  dfp_plain_port=$(grep -oE 'plain HTTP on http://[^ ]+:[0-9]+' "$work/server.log" | grep -oE '[0-9]+$' || true)
}
dfp_stop() {
  if [ -n "$dfp_pid" ]; then
    kill "$dfp_pid" 2>/dev/null || true
    wait "$dfp_pid" 2>/dev/null || true
    dfp_pid=""
  fi
}
