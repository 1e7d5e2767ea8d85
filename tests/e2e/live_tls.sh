#!/usr/bin/env bash
# Live wss:// (issue #12): `wsdiag -i lo --tls-keylog K` decrypts a python websockets wss session
# whose client appends its secrets to K while wsdiag already runs (the key log is re-read as it
# grows), and reports the connection's real verdict (1000 from the client) with keys "decrypted".
# usage: live_tls.sh WSDIAG SOURCE_DIR   (needs root and python3-websockets; 77 = skipped)
set -u
WSDIAG=${1:?usage: live_tls.sh WSDIAG SOURCE_DIR}
SRC=${2:?usage: live_tls.sh WSDIAG SOURCE_DIR}
skip() { echo "SKIP: live_tls.sh: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "capturing on lo needs root"
/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 || skip "python3-websockets missing"
command -v openssl >/dev/null 2>&1 || skip "openssl missing"
TMP=$(mktemp -d /tmp/wsdiag-live-tls.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: live_tls.sh: $*"; echo "--- wsdiag output"; cut -c1-400 "$TMP/out.jsonl" 2>/dev/null
         echo "--- wsdiag stderr"; cat "$TMP/err" 2>/dev/null; exit 1; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ws.test -keyout "$TMP/tls.key" -out "$TMP/tls.crt" \
  >/dev/null 2>&1 || fail "openssl could not make a certificate"
: >"$TMP/keys.txt"
chmod 644 "$TMP/keys.txt"
PORT=$((30000 + RANDOM % 20000))
timeout 30 "$WSDIAG" -i lo -f "tcp port $PORT" --tls-keylog "$TMP/keys.txt" --format jsonl -o "$TMP/out.jsonl" \
  --duration 12 2>"$TMP/err" & WPID=$!
PIDS+=("$WPID")
sleep 2
PYW="$SRC/scripts/samples/tls/py_wss.py"
timeout 20 /usr/bin/python3 "$PYW" server --port "$PORT" --cert "$TMP/tls.crt" --key "$TMP/tls.key" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.1; done
timeout 20 /usr/bin/python3 "$PYW" client --port "$PORT" --mode basic --count 3 --keylog "$TMP/keys.txt" 2>/dev/null ||
  fail "the wss client failed"
wait "$WPID"
[ -s "$TMP/keys.txt" ] || fail "the client wrote no key log"
python3 - "$TMP/out.jsonl" <<'PY' || fail "wrong report"
import json, sys
conns = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{") and '"verdict"' in l]
assert len(conns) == 1, f"{len(conns)} connections reported"
c = conns[0]
assert c["tls"]["keys"] == "decrypted", c["tls"]["keys"]
assert c["verdict"]["code"] == 1000 and c["verdict"]["side"] == "client", c["verdict"]
assert c["frames"]["client"] == 4, c["frames"]
print("ok   live wss:// decrypted with a key log written during the capture: 1000 from the client")
PY
