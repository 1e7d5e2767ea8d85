#!/usr/bin/env bash
# Redaction (issue #13 §1): samples/secrets.pcap (scripts/make-samples s_secrets, a real python
# websockets client) carries known secrets in the query string, a JWT subprotocol, Authorization /
# Cookie / X-Api-Key headers and a message. No output of any format or mode may contain one of
# them, nor the capture's directory; each output says where something was hidden; --no-redact,
# --payload and --anonymize do what they say (so the greps below can fail).
#
# usage: redaction.sh WSDIAG_BIN SOURCE_DIR    (registered by tests/CMakeLists.txt)
set -u
BIN=${1:?usage: redaction.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: redaction.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
CAP="$(cd "$SRC/samples" && pwd)/secrets.pcap"
DIR=$(dirname "$CAP")
SECRETS=(SECRETQUERYTOKEN123 SECRETROOM77 eyJhbGciOiJIUzI1NiJ9 SECRETJWTSIGNATURE SECRETBEARER456
         SECRETCOOKIE789 SECRETAPIKEY000 SECRETMESSAGEBODY)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-redaction.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

# name | arguments | text that says where something was hidden
MODES=(
  "text||redacted   query values in the request path"
  "json|--format json|\"query values in the request path\""
  "jsonl|--format jsonl|\"credential-like Sec-WebSocket-Protocol values\""
  "markdown|--format markdown|| Redacted |"
  "conn-text|--conn 1|redacted   query values in the request path"
  "conn-json|--conn 1 --format json|\"redacted\""
  "conn-md|--conn 1 --format markdown|| Redacted |"
  "all|--all|redacted   "
  "frames|--frames|<redacted>"
  "anonymize|--anonymize --format json|IP addresses (anonymized)"
)
for m in "${MODES[@]}"; do
  IFS='|' read -r name args where <<<"$m"
  # shellcheck disable=SC2086
  "$BIN" --no-progress $args "$CAP" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  if [ $rc -gt 1 ]; then bad "$name: exit $rc: $(head -c 300 "$WORK/$name.err")"; continue; fi
  leaked=""
  for s in "${SECRETS[@]}" "$DIR"; do
    grep -qF -- "$s" "$WORK/$name.out" "$WORK/$name.err" && leaked+=" $s"
  done
  if [ -n "$leaked" ]; then bad "$name: leaks$leaked"; else ok "$name: no secret, no directory"; fi
  if grep -qF -- "$where" "$WORK/$name.out"; then ok "$name: says '$where'"; else bad "$name: does not say '$where'"; fi
done
grep -qF "<redacted>, graphql-transport-ws" "$WORK/json.out" && ok "ordinary subprotocol name kept" || bad "graphql-transport-ws hidden too"
grep -qF "access_token=<redacted>" "$WORK/json.out" && ok "query parameter name kept" || bad "no access_token=<redacted>"
grep -qF "127.0.0.1" "$WORK/anonymize.out" && bad "--anonymize leaves 127.0.0.1" || ok "--anonymize hides addresses"
grep -qE '"client": "addr-1:[0-9]+"' "$WORK/anonymize.out" && ok "--anonymize keeps ports" || bad "--anonymize: no addr-1:PORT client"

# The run-level patterns name servers too: --anonymize must reach them (a crash of 22 connections).
KILL="$SRC/samples/server-kill-restart.pcap"
if [ -f "$KILL" ]; then
  for f in text json markdown; do
    "$BIN" --no-progress --anonymize --format "$f" "$KILL" >"$WORK/kill-$f.out" 2>&1
    grep -q "correlated-teardown" "$WORK/kill-$f.out" || bad "patterns ($f): no correlated-teardown group"
    grep -qF "10.77." "$WORK/kill-$f.out" && bad "--anonymize leaves an address in the $f patterns" ||
      ok "--anonymize hides addresses in the $f patterns"
  done
fi

# The capture does carry the secrets: --no-redact shows them, --payload shows the message.
"$BIN" --no-progress --no-redact --format json "$CAP" >"$WORK/raw.out" 2>&1
for s in SECRETQUERYTOKEN123 SECRETJWTSIGNATURE "$DIR"; do
  grep -qF -- "$s" "$WORK/raw.out" && ok "--no-redact shows $s" || bad "--no-redact hides $s"
done
"$BIN" --no-progress --frames --payload "$CAP" >"$WORK/payload.out" 2>&1
grep -qF SECRETMESSAGEBODY "$WORK/payload.out" && ok "--frames --payload shows the message" || bad "--payload: no message"
grep -qF SECRETQUERYTOKEN123 "$WORK/payload.out" && bad "--payload shows more than the message" || ok "--payload shows only previews"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
