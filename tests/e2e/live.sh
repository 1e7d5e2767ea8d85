#!/usr/bin/env bash
# Live capture end to end: `wsdiag -i lo` watches real python-websockets connections on 127.0.0.1
# and must report each one WHILE it is still running (1000 clean close, 1001 server going away,
# 1006 server SIGKILLed); Ctrl-C (SIGINT) must then report the connection still open as "open",
# print the stats record and exit 0. The -w file it saved must give the same verdicts offline.
#
# usage: live.sh WSDIAG SOURCE_DIR
# Needs root (capturing on lo) and python3-websockets (installed with apt-get when missing and
# root); exits 77 (skipped) otherwise. Every wait is bounded; only processes started here are killed.
#
# Soak (off by default): WSDIAG_LIVE_SOAK=SECONDS [WSDIAG_LIVE_SOAK_RATE=50] runs that many seconds
# of short connections (RATE a second) through one wsdiag, samples its RSS every 5 s and fails if
# it grows by more than half between the first sample after warm-up and the end.
set -u

WSDIAG=${1:?usage: live.sh WSDIAG SOURCE_DIR}
SRC=${2:?usage: live.sh WSDIAG SOURCE_DIR}
PEER="$SRC/tests/tools/live_peer.py"

skip() { echo "SKIP: live.sh: $*"; exit 77; }
fail() { echo "FAIL: live.sh: $*"; [ -n "${OUT:-}" ] && [ -f "$OUT" ] && { echo "--- wsdiag stdout"; cut -c1-300 "$OUT"; }
         [ -n "${ERR:-}" ] && [ -f "$ERR" ] && { echo "--- wsdiag stderr"; cat "$ERR"; }; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "capturing on lo needs root"

PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import websockets' >/dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "live.sh: installing python3-websockets"
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq python3-websockets </dev/null >/dev/null 2>&1 ||
    skip "python3-websockets is missing and could not be installed"
  /usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 && PY=/usr/bin/python3 || skip "python3-websockets unusable"
fi

TMP=$(mktemp -d /tmp/wsdiag-live.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# lo must be capturable (a container may lack CAP_NET_RAW even as root).
if ! timeout 20 "$WSDIAG" -i lo -f 'tcp port 1' --duration 0.3 -Z root >/dev/null 2>"$TMP/probe.err"; then
  skip "cannot capture on lo: $(head -1 "$TMP/probe.err")"
fi

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_for FILE PATTERN SECONDS: until FILE has a line matching PATTERN.
wait_for() {
  local i
  for ((i = 0; i < $3 * 5; i++)); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}

start_server() {  # start_server PORT NAME -> sets SERVER_PID
  "$PY" "$PEER" server "$1" >"$TMP/$2.out" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_for "$TMP/$2.out" '^ready' 10 || fail "server $2 did not start: $(cat "$TMP/$2.out")"
}

# verdict_of FILE PORT: prints the verdict (code, or name) of the connection from client port PORT.
verdict_of() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys
path, port = sys.argv[1], sys.argv[2]
for line in open(path, errors="replace"):
    try:
        o = json.loads(line)
    except ValueError:
        continue  # a line still being written
    if o.get("type") == "stats" or not o.get("client", "").endswith(":" + port):
        continue
    v = o["verdict"]
    print(v["code"] if v["code"] is not None else v["name"])
    break
EOF
}

# expect_live PORT VERDICT: the line for PORT arrives (bounded) while wsdiag is still running.
expect_live() {
  local i got=""
  for ((i = 0; i < 100; i++)); do
    got=$(verdict_of "$OUT" "$1")
    [ -n "$got" ] && break
    kill -0 "$WSDIAG_PID" 2>/dev/null || fail "wsdiag exited before reporting client port $1"
    sleep 0.2
  done
  [ -n "$got" ] || fail "no report for client port $1 within 20 s"
  kill -0 "$WSDIAG_PID" 2>/dev/null || fail "wsdiag was no longer running when port $1 was reported"
  [ "$got" = "$2" ] || fail "client port $1: verdict $got, expected $2"
  echo "ok: client port $1 reported live with verdict $got"
}

client_port() {  # client_port FILE: the "port N" the client printed
  wait_for "$1" '^port ' 15 || fail "client did not connect: $(cat "$1")"
  sed -n 's/^port //p' "$1" | head -1
}

P=$(free_port)
OUT="$TMP/live.jsonl"
ERR="$TMP/live.err"
start_server "$P" serverA
"$WSDIAG" -i lo -f "tcp port $P" --format jsonl -w "$TMP/live.pcap" --duration 150 >"$OUT" 2>"$ERR" &
WSDIAG_PID=$!
PIDS+=("$WSDIAG_PID")
wait_for "$ERR" 'listening on' 15 || fail "wsdiag did not start"
# A second wsdiag on the same traffic with --only 1006: it must report the killed server's
# connection and nothing else.
"$WSDIAG" -i lo -f "tcp port $P" --format jsonl --only 1006 --duration 150 >"$TMP/only.jsonl" 2>"$TMP/only.err" &
ONLY_PID=$!
PIDS+=("$ONLY_PID")
wait_for "$TMP/only.err" 'listening on' 15 || fail "wsdiag --only did not start"

# 1. a clean close: 1000
timeout 30 "$PY" "$PEER" client "$P" normal >"$TMP/c1.out" 2>&1 || fail "client 1: $(cat "$TMP/c1.out")"
expect_live "$(client_port "$TMP/c1.out")" 1000

# 2. the server closes with 1001 (going away)
timeout 30 "$PY" "$PEER" client "$P" ask1001 >"$TMP/c2.out" 2>&1 || fail "client 2: $(cat "$TMP/c2.out")"
expect_live "$(client_port "$TMP/c2.out")" 1001

# 3. the server process is killed (SIGKILL): the kernel closes its socket, no Close frame: 1006
timeout 60 "$PY" "$PEER" client "$P" hold >"$TMP/c3.out" 2>&1 &
PIDS+=("$!")
port3=$(client_port "$TMP/c3.out")
wait_for "$TMP/c3.out" '^open' 10 || fail "client 3 not established"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
expect_live "$port3" 1006

# 4. a connection still open at Ctrl-C is reported as open; exit status 0
start_server "$P" serverB
timeout 60 "$PY" "$PEER" client "$P" hold >"$TMP/c4.out" 2>&1 &
PIDS+=("$!")
port4=$(client_port "$TMP/c4.out")
wait_for "$TMP/c4.out" '^open' 10 || fail "client 4 not established"
sleep 0.5
kill -0 "$WSDIAG_PID" 2>/dev/null || fail "wsdiag ended early"
# Twice, 50 ms apart, as timeout(1) does (to the process and to its group): the duplicate must not
# kill the report being written. (This small report is often written before the duplicate comes,
# so a regression is caught only sometimes; the full suite's live_tls run under load caught it.)
kill -INT "$WSDIAG_PID"
sleep 0.05
kill -INT "$WSDIAG_PID" 2>/dev/null
for ((i = 0; i < 75; i++)); do kill -0 "$WSDIAG_PID" 2>/dev/null || break; sleep 0.2; done
kill -0 "$WSDIAG_PID" 2>/dev/null && fail "wsdiag still running 15 s after SIGINT"
wait "$WSDIAG_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "exit status $rc after SIGINT, expected 0"
got=$(verdict_of "$OUT" "$port4")
[ "$got" = "open" ] || fail "client port $port4 still open at SIGINT: verdict '$got', expected open"
echo "ok: SIGINT -> exit 0, client port $port4 reported as open"
tail -1 "$OUT" | grep -q '"type":"stats".*"dropped":0,"if_dropped":0' || fail "last line is not a stats record with drops"
grep -q 'dropped by kernel' "$ERR" || fail "no summary line on stderr"
echo "ok: stats record and summary line present"

# --only 1006, live: the killed server's connection only.
kill -INT "$ONLY_PID"
for ((i = 0; i < 75; i++)); do kill -0 "$ONLY_PID" 2>/dev/null || break; sleep 0.2; done
wait "$ONLY_PID" || fail "wsdiag --only: exit status $?"
[ "$(verdict_of "$TMP/only.jsonl" "$port3")" = 1006 ] || fail "--only 1006 live: the 1006 connection is missing"
for port in $(client_port "$TMP/c1.out") $(client_port "$TMP/c2.out") "$port4"; do
  [ -z "$(verdict_of "$TMP/only.jsonl" "$port")" ] || fail "--only 1006 live: client port $port reported"
done
[ "$(grep -c '"client"' "$TMP/only.jsonl")" -eq 1 ] || fail "--only 1006 live: $(grep -c '"client"' "$TMP/only.jsonl") connections reported, expected 1"
echo "ok: --only 1006 live reports the killed server's connection and nothing else"

# 5. offline and live agree: the -w capture gives the same verdicts.
[ -s "$TMP/live.pcap" ] || fail "-w file is empty"
"$WSDIAG" --format jsonl "$TMP/live.pcap" >"$TMP/offline.jsonl" 2>"$TMP/offline.err" || fail "offline run failed"
for port in $(client_port "$TMP/c1.out") $(client_port "$TMP/c2.out") "$port3" "$port4"; do
  a=$(verdict_of "$OUT" "$port"); b=$(verdict_of "$TMP/offline.jsonl" "$port")
  [ "$a" = "$b" ] || fail "port $port: live verdict $a, offline verdict of the -w file $b"
done
echo "ok: the -w file gives the same verdicts offline"

# Optional soak: memory stays flat over thousands of short connections.
if [ -n "${WSDIAG_LIVE_SOAK:-}" ]; then
  SECS=$WSDIAG_LIVE_SOAK
  RATE=${WSDIAG_LIVE_SOAK_RATE:-50}
  P2=$(free_port)
  start_server "$P2" serverSoak
  OUT="$TMP/soak.jsonl"
  ERR="$TMP/soak.err"
  "$WSDIAG" -i lo -f "tcp port $P2" --format jsonl --duration $((SECS + 60)) >"$OUT" 2>"$ERR" &
  WSDIAG_PID=$!
  PIDS+=("$WSDIAG_PID")
  wait_for "$ERR" 'listening on' 15 || fail "soak: wsdiag did not start"
  timeout $((SECS + 60)) "$PY" "$PEER" soak "$P2" "$SECS" "$RATE" >"$TMP/soak.out" 2>&1 &
  SOAK_PID=$!
  PIDS+=("$SOAK_PID")
  samples=()
  for ((t = 0; t <= SECS + 10; t += 5)); do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$WSDIAG_PID/status" 2>/dev/null)
    samples+=("${rss:-0}")
    echo "soak: t=${t}s rss=${rss:-?} KiB reported=$(grep -c '"client"' "$OUT")"
    sleep 5
  done
  wait "$SOAK_PID"
  cat "$TMP/soak.out"
  kill -INT "$WSDIAG_PID"
  for ((i = 0; i < 75; i++)); do kill -0 "$WSDIAG_PID" 2>/dev/null || break; sleep 0.2; done
  wait "$WSDIAG_PID" || fail "soak: wsdiag exit status $?"
  reported=$(grep -c '"client"' "$OUT")
  completed=$(sed -n 's/^soak: \([0-9]*\) connections completed.*/\1/p' "$TMP/soak.out")
  echo "soak: $completed connections made, $reported reported; $(tail -1 "$ERR")"
  tcp=$(tail -1 "$OUT" | sed -n 's/.*"tcp_connections":\([0-9]*\).*/\1/p')
  if tail -1 "$OUT" | grep -q '"lossy":false'; then
    [ "${tcp:-0}" -ge "${completed:-0}" ] || fail "soak: $completed connections made but $tcp seen"
    [ "$reported" -ge "${completed:-0}" ] || fail "soak: $completed connections made but $reported reported"
  else
    echo "soak: WARNING: the kernel dropped packets; $reported of $completed connections reported as WebSocket"
  fi
  warm=${samples[2]}  # t=10 s: the tables have reached their steady size
  last=${samples[-1]}
  echo "soak: RSS at t=10s ${warm} KiB, at the end ${last} KiB"
  [ "$last" -le $((warm + warm / 2)) ] || fail "soak: RSS grew from $warm to $last KiB"
  echo "ok: soak RSS flat"
fi
echo "PASS: live.sh"
