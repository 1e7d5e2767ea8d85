#!/usr/bin/env bash
# Causes on wss:// (issue #12 "without keys"): encrypted connections go through the same cause and
# pattern tables as plaintext ones. samples/wss-nginx-idle-timeout.pcap holds 3 idle wss clients cut
# by nginx's proxy_read_timeout 2s (nginx sends close_notify first, the client answers and FINs);
# wss-nginx-tls13-idle-timeout.pcap the same over TLS 1.3 (without keys: a 19-byte last record):
#   - without keys each is "TLS, not decrypted" with cause idle-timeout by the server after ~2 s,
#     and the run finds the idle-timeout pattern over the 3 of them;
#   - with the key log the same cause and pattern (the decrypted WebSocket had no Close frame);
#   - neighbours: a wss connection closed with 1000 (decrypted or not) and one whose server was
#     killed while busy (no silence before the FIN) get no idle-timeout.
# usage: tls_causes.sh WSDIAG_BIN SOURCE_DIR   (77 = skipped: python3 or the samples missing)
set -u
BIN=${1:?usage: tls_causes.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: tls_causes.sh WSDIAG_BIN SOURCE_DIR}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
[ -f "$SRC/samples/wss-nginx-idle-timeout.pcap" ] || { echo "SKIP: samples/wss-nginx-idle-timeout.pcap missing"; exit 77; }
exec python3 - "$BIN" "$SRC/samples" <<'PY'
import json, os, re, subprocess, sys

binary, samples = sys.argv[1], sys.argv[2]
env = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
failed = 0


def run(name, keys):
    cap = os.path.join(samples, name)
    extra = ["--tls-keylog", os.path.splitext(cap)[0] + ".keys"] if keys else []
    res = subprocess.run([binary, "--no-progress", "--format", "json", *extra, cap], capture_output=True, text=True,
                         timeout=120, env=env)
    if res.returncode not in (0, 1):
        raise SystemExit(f"FAIL {name}: wsdiag exited {res.returncode}: {res.stderr.strip()}")
    return json.loads(res.stdout)


def check(label, cond, detail):
    global failed
    if cond:
        print(f"ok   {label}")
    else:
        failed += 1
        print(f"FAIL {label}: {detail}")


for name, keys in [(n, k) for n in ("wss-nginx-idle-timeout.pcap", "wss-nginx-tls13-idle-timeout.pcap")
                   for k in (False, True)]:
    if not os.path.exists(os.path.join(samples, name)):
        continue
    how = f"{name} with keys" if keys else f"{name} without keys"
    doc = run(name, keys)
    conns = doc["connections"]
    check(f"idle-timeout {how}: 3 connections", len(conns) == 3, len(conns))
    for c in conns:
        v, cause = c["verdict"], c.get("cause") or {}
        if not keys:
            check(f"idle-timeout {how} #{c['id']}: TLS, not decrypted, no close code",
                  v["name"] == "TLS, not decrypted" and v["code"] is None, v)
        check(f"idle-timeout {how} #{c['id']}: cause idle-timeout by the server after ~2 s",
              cause.get("id") == "idle-timeout" and "by the server" in cause.get("evidence", "")
              and re.search(r"after (1\.9\d|2\.0\d) s of silence", cause.get("evidence", "")), cause)
    pats = doc.get("patterns") or []
    check(f"idle-timeout {how}: one idle-timeout pattern over the 3, server side",
          len(pats) == 1 and pats[0]["id"] == "idle-timeout" and len(pats[0]["members"]) == 3
          and "server" in pats[0]["summary"], pats)

# Legal neighbours: no silence before the ending, so no idle-timeout (decrypted or not).
for name in ("wss-py-tls13-close-1000.pcap", "wss-py-tls12-gcm-close-1000.pcap", "wss-server-sigkill.pcap",
             "wss-nginx-close-1000.pcap"):
    if not os.path.exists(os.path.join(samples, name)):
        continue
    for keys in (False, True):
        doc = run(name, keys)
        for c in doc["connections"]:
            cause = (c.get("cause") or {}).get("id")
            check(f"{name} {'with' if keys else 'without'} keys #{c['id']}: no idle-timeout", cause != "idle-timeout",
                  c.get("cause"))
        check(f"{name}: no pattern", not doc.get("patterns"), doc.get("patterns"))
sys.exit(1 if failed else 0)
PY
