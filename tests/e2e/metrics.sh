#!/usr/bin/env bash
# --metrics end to end: a real Prometheus server (Debian's prometheus, temporary config and storage,
# loopback only) scrapes a live `wsdiag -i lo --metrics` while real python-websockets peers end
# connections in known ways (2x 1000 by the client, 1x 1001 by the server, 1x 1006: server
# SIGKILLed); PromQL over Prometheus's HTTP API must return exactly those counts. The exposition
# itself must pass `promtool check metrics`.
#
# usage: metrics.sh WSDIAG SOURCE_DIR
# Needs root (capture on lo), python3-websockets, prometheus (promtool); exits 77 (skipped) otherwise.
# Only processes started here are stopped, by pid; every wait is bounded.
set -u
WSDIAG=${1:?usage: metrics.sh WSDIAG SOURCE_DIR}
SRC=${2:?usage: metrics.sh WSDIAG SOURCE_DIR}
PEER="$SRC/tests/tools/live_peer.py"
PY=/usr/bin/python3

skip() { echo "SKIP: metrics.sh: $*"; exit 77; }
fail() { echo "FAIL: metrics.sh: $*"; [ -f "$TMP/wsdiag.err" ] && { echo "--- wsdiag stderr"; cat "$TMP/wsdiag.err"; }
         [ -f "$TMP/prom.log" ] && { echo "--- prometheus log (tail)"; tail -5 "$TMP/prom.log"; }; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "capturing on lo needs root"
command -v prometheus >/dev/null && command -v promtool >/dev/null || skip "prometheus/promtool not installed"
"$PY" -c 'import websockets' 2>/dev/null || skip "python3-websockets not installed"

TMP=$(mktemp -d /tmp/wsdiag-metrics.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { local i; for ((i = 0; i < $3 * 5; i++)); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

if ! timeout 20 "$WSDIAG" -i lo -f 'tcp port 1' --duration 0.3 -Z root >/dev/null 2>"$TMP/probe.err"; then
  skip "cannot capture on lo: $(head -1 "$TMP/probe.err")"
fi

WS=$(free_port); MP=$(free_port); PP=$(free_port)
start_server() {
  "$PY" "$PEER" server "$WS" >"$TMP/$1.out" 2>&1 &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_for "$TMP/$1.out" '^ready' 10 || fail "server did not start"
}
start_server s1
"$WSDIAG" -i lo -f "tcp port $WS" --format jsonl --metrics "127.0.0.1:$MP" --duration 120 -Z root \
  >"$TMP/wsdiag.jsonl" 2>"$TMP/wsdiag.err" &
WSDIAG_PID=$!; PIDS+=("$WSDIAG_PID")
wait_for "$TMP/wsdiag.err" 'listening on' 15 || fail "wsdiag did not start"

cat >"$TMP/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: wsdiag
    static_configs:
      - targets: ['127.0.0.1:$MP']
CFG
promtool check config "$TMP/prometheus.yml" >/dev/null || fail "promtool rejects the config"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
  --web.listen-address="127.0.0.1:$PP" >"$TMP/prom.log" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/prom.log" 'Server is ready to receive web requests' 30 || fail "prometheus did not start"

for mode in normal normal ask1001; do
  timeout 30 "$PY" "$PEER" client "$WS" "$mode" >>"$TMP/clients.out" 2>&1 || fail "client $mode failed"
done
timeout 60 "$PY" "$PEER" client "$WS" hold >"$TMP/hold.out" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/hold.out" '^open' 15 || fail "holding client not established"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null

# PromQL: connections ended by close code, as Prometheus scraped them.
query() {
  curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
    "$PY" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(" ".join(sorted(x["metric"].get("code", "") + "=" + x["value"][1] for x in r)))'
}
want="1000=2 1001=1 1006=1"
got=""
for ((i = 0; i < 60; i++)); do
  got=$(query 'sum by (code) (wsdiag_connections_ended_total{job="wsdiag"})' 2>/dev/null)
  [ "$got" = "$want" ] && break
  sleep 0.5
done
[ "$got" = "$want" ] || fail "PromQL sum by (code): got '$got', expected '$want'"
echo "ok: PromQL sum by (code) (wsdiag_connections_ended_total) = $got"

got=$(query 'sum by (code, side) (wsdiag_connections_ended_total{job="wsdiag",code="1006"})' 2>/dev/null)
[ "$got" = "1006=1" ] || fail "1006 series: '$got'"
side=$(curl -s --noproxy '*' "http://127.0.0.1:$MP/metrics" | sed -n 's/^wsdiag_connections_ended_total{code="1006",side="\([a-z]*\)".*/\1/p')
[ "$side" = "server" ] || fail "1006 side '$side', expected server (its process was killed)"
got=$(query 'sum(wsdiag_connection_duration_seconds_count{job="wsdiag"})')
[ "$got" = "=4" ] || fail "duration histogram count: '$got', expected 4"
got=$(query 'max(process_resident_memory_bytes{job="wsdiag"}) > 0')
[ -n "$got" ] || fail "no process_resident_memory_bytes"
got=$(query 'up{job="wsdiag"}')
[ "$got" = "=1" ] || fail "target not up: '$got'"
echo "ok: 1006 counted for the server, 4 durations observed, process memory exported, target up"

curl -s --noproxy '*' "http://127.0.0.1:$MP/metrics" >"$TMP/metrics.txt" || fail "curl /metrics"
promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 || { cat "$TMP/promtool.out"; fail "promtool check metrics"; }
echo "ok: promtool check metrics accepts the exposition ($(grep -vc '^#' "$TMP/metrics.txt") samples)"

# The example alert rule in the README is valid.
sed -n '/^groups:/,/^```/p' "$SRC/README.md" | sed '$d' >"$TMP/rules.yml"
[ -s "$TMP/rules.yml" ] || fail "no alert rule example in README.md"
promtool check rules "$TMP/rules.yml" >/dev/null 2>&1 || fail "promtool rejects the README's alert rule"
echo "ok: the README's alert rule passes promtool check rules"

kill -INT "$WSDIAG_PID"
for ((i = 0; i < 50; i++)); do kill -0 "$WSDIAG_PID" 2>/dev/null || break; sleep 0.2; done
wait "$WSDIAG_PID"; rc=$?
[ "$rc" -eq 0 ] || fail "wsdiag exit status $rc after SIGINT"
echo "PASS: metrics.sh"
