#!/usr/bin/env bash
# Live run-level causes: five real python-websockets clients hold connections to a server on
# 127.0.0.1; the server is SIGKILLed, so its kernel ends all five at once without a Close frame.
# `wsdiag -i lo` must report the group while it is still running, once, as one jsonl line
# {"type":"pattern","pattern":{"id":"correlated-teardown",...}} naming the five connections.
#
# usage: live_patterns.sh WSDIAG SOURCE_DIR
# Needs root (capturing on lo) and python3-websockets; exits 77 (skipped) otherwise.
set -u

WSDIAG=${1:?usage: live_patterns.sh WSDIAG SOURCE_DIR}
SRC=${2:?usage: live_patterns.sh WSDIAG SOURCE_DIR}
PEER="$SRC/tests/tools/live_peer.py"
N=5

skip() { echo "SKIP: live_patterns.sh: $*"; exit 77; }
fail() { echo "FAIL: live_patterns.sh: $*"; [ -f "${OUT:-}" ] && { echo "--- wsdiag stdout"; cut -c1-400 "$OUT"; }
         [ -f "${ERR:-}" ] && { echo "--- wsdiag stderr"; cat "$ERR"; }; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "capturing on lo needs root"
PY=/usr/bin/python3
"$PY" -c 'import websockets' >/dev/null 2>&1 || skip "python3-websockets is missing"

TMP=$(mktemp -d /tmp/wsdiag-livepat.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

if ! timeout 20 "$WSDIAG" -i lo -f 'tcp port 1' --duration 0.3 -Z root >/dev/null 2>"$TMP/probe.err"; then
  skip "cannot capture on lo: $(head -1 "$TMP/probe.err")"
fi

wait_for() {  # wait_for FILE PATTERN SECONDS
  local i
  for ((i = 0; i < $3 * 5; i++)); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}

P=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" "$PEER" server "$P" >"$TMP/server.out" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "$TMP/server.out" '^ready' 10 || fail "server did not start: $(cat "$TMP/server.out")"

OUT="$TMP/live.jsonl"
ERR="$TMP/live.err"
"$WSDIAG" -i lo -f "tcp port $P" --format jsonl --duration 120 >"$OUT" 2>"$ERR" &
WSDIAG_PID=$!
PIDS+=("$WSDIAG_PID")
wait_for "$ERR" 'listening on' 15 || fail "wsdiag did not start"

for ((c = 1; c <= N; c++)); do
  timeout 60 "$PY" "$PEER" client "$P" hold >"$TMP/c$c.out" 2>&1 &
  PIDS+=("$!")
done
for ((c = 1; c <= N; c++)); do wait_for "$TMP/c$c.out" '^open' 15 || fail "client $c not established"; done

kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null

# The group is reported while wsdiag runs (it settles 2 s after the last ending).
wait_for "$OUT" '"type":"pattern"' 30 || fail "no pattern line within 30 s of the kill"
kill -0 "$WSDIAG_PID" 2>/dev/null || fail "wsdiag was no longer running when the pattern was reported"
sleep 3  # anything reported twice would show by now
kill -INT "$WSDIAG_PID"
for ((i = 0; i < 75; i++)); do kill -0 "$WSDIAG_PID" 2>/dev/null || break; sleep 0.2; done
wait "$WSDIAG_PID" || fail "wsdiag exit status $?"

"$PY" - "$OUT" "$N" <<'PYEOF' || fail "pattern lines are wrong"
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
conns, pats = {}, []
for line in open(path):
    o = json.loads(line)
    if o.get("type") == "pattern":
        pats.append(o["pattern"])
    elif "verdict" in o:
        conns[o["id"]] = o
assert len(pats) == 1, f"expected one pattern line, got {len(pats)}: {pats}"
p = pats[0]
assert p["id"] == "correlated-teardown", p
assert len(p["members"]) == n, p
for m in p["members"]:
    assert m in conns and conns[m]["verdict"]["code"] == 1006, (m, conns.get(m))
print(f"ok: one live pattern line: {p['id']} ({p['confidence']}), members {p['members']}: {p['summary']}")
PYEOF
