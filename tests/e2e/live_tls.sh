#!/usr/bin/env bash
# Live wss:// (issue #12): `wsdiag -i lo --tls-keylog K` decrypts python websockets wss sessions
# whose secrets reach K while wsdiag runs, and reports each connection's real verdict (1000 from the
# client) with keys "decrypted". Two sessions, one wsdiag:
#   1. late keys, deterministic: the client writes its key log to a private file; only once wsdiag
#      has read every packet of the session so far (its packet counter, from --metrics, has reached
#      the client socket's segments in + out, from ss) are the lines appended to K, and only then
#      does the client close. Every record of the handshake and the messages reached wsdiag before
#      any secret did: they must be held and decrypted in order once the lines come.
#   2. the real race: the client appends its secrets to K itself as it connects (a client logs a
#      secret only after using it, so records can still reach wsdiag first).
# No retry: a run that fails is a defect. Robust under load: every step waits for a readiness signal
# (wsdiag's "listening on" line, the server's listening socket, the client's "exchanged" line, the
# packet counter, the report line itself) with a generous bound, never for a fixed time; wsdiag is
# stopped with SIGINT once both connections have been reported.
# usage: live_tls.sh WSDIAG SOURCE_DIR   (needs root and python3-websockets; 77 = skipped)
set -u
WSDIAG=${1:?usage: live_tls.sh WSDIAG SOURCE_DIR}
SRC=${2:?usage: live_tls.sh WSDIAG SOURCE_DIR}
PY=/usr/bin/python3
skip() { echo "SKIP: live_tls.sh: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "capturing on lo needs root"
"$PY" -c 'import websockets' >/dev/null 2>&1 || skip "python3-websockets missing"
command -v openssl >/dev/null 2>&1 || skip "openssl missing"
command -v ss >/dev/null 2>&1 || skip "ss (iproute2) missing"
TMP=$(mktemp -d /tmp/wsdiag-live-tls.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: live_tls.sh: $*"; echo "--- wsdiag output"; cut -c1-600 "$TMP/out.jsonl" 2>/dev/null
         echo "--- wsdiag stderr"; cat "$TMP/err" 2>/dev/null
         echo "--- server"; cat "$TMP/server.log" 2>/dev/null
         for c in late race; do echo "--- client ($c)"; cat "$TMP/client-$c.log" 2>/dev/null; done
         exit 1; }

# until CMD... succeeds, every 0.1 s, at most $WAIT_S seconds (false when the time is up).
until_ok() {
  local i
  for ((i = 0; i < WAIT_S * 10; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
WAIT_S=30
grep_q() { grep -q -- "$2" "$1" 2>/dev/null; }
listening() { ss -Hltn "sport = :$1" | grep -q .; }
reported() { [ "$(grep -c '"verdict"' "$TMP/out.jsonl" 2>/dev/null)" -ge "$1" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Packets of the client's connection so far: its socket's segments out + in (every one crosses lo once).
client_segments() {
  ss -HtinO state established "dport = :$PORT" | "$PY" -c '
import re, sys
t = sys.stdin.read()
o, i = re.search(r"segs_out:(\d+)", t), re.search(r"segs_in:(\d+)", t)
print(int(o.group(1)) + int(i.group(1)) if o and i else "")'
}
# Packets wsdiag has read and analysed (its --metrics counter, updated every 200 ms).
wsdiag_packets() {
  "$PY" -c '
import re, sys, urllib.request
t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
m = re.search(r"^wsdiag_packets_total\{[^}]*\} (\d+)", t, re.M)
print(m.group(1) if m else 0)' "$MPORT" 2>/dev/null || echo 0
}
caught_up() { local want; want=$(client_segments); [ -n "$want" ] && [ "$(wsdiag_packets)" -ge "$want" ]; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ws.test -keyout "$TMP/tls.key" -out "$TMP/tls.crt" \
  >/dev/null 2>&1 || fail "openssl could not make a certificate"
: >"$TMP/keys.txt"
chmod 644 "$TMP/keys.txt"
# Ports nothing listens on now (the kernel's choice), so no other test's traffic is captured.
PORT=$(free_port) || fail "no free port"
MPORT=$(free_port) || fail "no free port"

# --duration only bounds a run that goes wrong; a good run is stopped below once reported.
timeout 150 "$WSDIAG" -i lo -f "tcp port $PORT" --tls-keylog "$TMP/keys.txt" --format jsonl -o "$TMP/out.jsonl" \
  --metrics "127.0.0.1:$MPORT" --duration 120 2>"$TMP/err" & WPID=$!
PIDS+=("$WPID")
until_ok grep_q "$TMP/err" 'listening on' || fail "wsdiag did not start capturing within ${WAIT_S}s"

PYW="$SRC/scripts/samples/tls/py_wss.py"
timeout 120 "$PY" "$PYW" server --port "$PORT" --cert "$TMP/tls.crt" --key "$TMP/tls.key" --conns 2 --lifetime 100 \
  >"$TMP/server.log" 2>&1 & SPID=$!
PIDS+=("$SPID")
until_ok listening "$PORT" || fail "the wss server did not listen on $PORT within ${WAIT_S}s"

# 1. Late keys.
timeout 60 "$PY" "$PYW" client --port "$PORT" --mode basic --count 3 --keylog "$TMP/late-keys.txt" \
  --close-after "$TMP/close" >"$TMP/client-late.log" 2>&1 & CPID=$!
PIDS+=("$CPID")
until_ok grep_q "$TMP/client-late.log" 'exchanged' || fail "the late-keys client did not exchange its messages"
[ -s "$TMP/late-keys.txt" ] || fail "the late-keys client wrote no key log"
[ ! -s "$TMP/keys.txt" ] || fail "the followed key log is not empty before the late keys"
until_ok caught_up || fail "wsdiag did not read the session's $(client_segments) packets within ${WAIT_S}s (read $(wsdiag_packets))"
cat "$TMP/late-keys.txt" >>"$TMP/keys.txt"
touch "$TMP/close"
wait "$CPID" || fail "the late-keys client failed"
WAIT_S=60
until_ok reported 1 || fail "the late-keys connection was not reported within ${WAIT_S}s of the client's end"

# 2. The client logs into the followed file itself.
WAIT_S=30
timeout 60 "$PY" "$PYW" client --port "$PORT" --mode basic --count 3 --keylog "$TMP/keys.txt" \
  >"$TMP/client-race.log" 2>&1 || fail "the wss client failed"
WAIT_S=60
until_ok reported 2 || fail "the second connection was not reported within ${WAIT_S}s of the client's end"
alive "$WPID" || fail "wsdiag exited early"
kill -INT "$WPID"
WAIT_S=20
until_ok eval '! alive "$WPID"' || fail "wsdiag did not stop on SIGINT"
wait "$WPID"
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || fail "wsdiag exited with $rc"

"$PY" - "$TMP/out.jsonl" <<'PY' || fail "wrong report"
import json, sys
conns = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{") and '"verdict"' in l]
assert len(conns) == 2, f"{len(conns)} connections reported"
for c, what in zip(conns, ["secrets logged after every record so far was read", "secrets logged by the client"]):
    assert c["tls"]["keys"] == "decrypted", (what, c["tls"]["keys"])
    assert c["verdict"]["code"] == 1000 and c["verdict"]["side"] == "client", (what, c["verdict"])
    assert c["frames"]["client"] == 4, (what, c["frames"])
    assert not any(f["rule"].startswith("tls-") or f["rule"].startswith("limit-") for f in c.get("findings", [])), \
        (what, c.get("findings"))
    print(f"ok   live wss:// decrypted, {what}: 1000 from the client, 4 client frames")
PY
