#!/usr/bin/env bash
# The command-line contract of CLI.md on real samples: exit statuses (0 analysed, 1 --fail-on
# matched, 2 bad usage or input), --fail-on conditions, --conn, -f, -r, standard input, several
# files, -o and the output formats.
set -uo pipefail
bin=$1 src=$2
cd "$src" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect STATUS DESCRIPTION -- COMMAND...
expect() {
  local want=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" = "$want" ]; then
    pass=$((pass + 1)); echo "ok   $what (exit $got)"
  else
    fail=$((fail + 1)); echo "FAIL $what: exit $got, want $want"; head -3 "$tmp/err"
  fi
}
# check DESCRIPTION PYTHON-EXPRESSION-ON-j (the JSON in $tmp/out)
check() {
  if python3 -c "import json,sys; j=json.load(open('$tmp/out')); sys.exit(0 if ($2) else 1)"; then
    pass=$((pass + 1)); echo "ok   $1"
  else
    fail=$((fail + 1)); echo "FAIL $1"
  fi
}

clean=samples/close-1000-by-client.pcap        # 1000, severity info
rst=samples/rst-linger0-by-server.pcap         # 1006 by the server (RST)
unmasked=samples/viol-unmasked-client-py.pcap  # 1002 with client-unmasked
rejected=samples/handshake-403-py-server.pcap  # handshake failed
many=samples/many-connections-mixed.pcap       # 12 connections, the last one open

expect 0 "--version" -- "$bin" --version
grep -q "^wsdiag [0-9]" "$tmp/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL --version text"; }
expect 0 "--help" -- "$bin" --help
expect 2 "no capture given" -- "$bin"
expect 2 "unknown option" -- "$bin" --no-such-option "$clean"
expect 2 "missing file" -- "$bin" "$tmp/none.pcap"
grep -q "^wsdiag: $tmp/none.pcap: " "$tmp/err" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL error line format"; }

expect 0 "--fail-on 1000 on a 1006" -- "$bin" --fail-on 1000 "$rst"
expect 1 "--fail-on 1006 on a 1006" -- "$bin" --fail-on 1006 "$rst"
expect 1 "--fail-on 1006,1002 (list)" -- "$bin" --fail-on 1006,1002 "$unmasked"
expect 1 "--fail-on error" -- "$bin" --fail-on error "$rst"
expect 0 "--fail-on warning on a clean close" -- "$bin" --fail-on warning "$clean"
expect 1 "--fail-on info on a clean close" -- "$bin" --fail-on info "$clean"
expect 1 "--fail-on info,warning keeps the lowest" -- "$bin" --fail-on info,warning "$clean"
expect 1 "--fail-on rule id" -- "$bin" --fail-on client-unmasked "$unmasked"
expect 0 "--fail-on rule id absent" -- "$bin" --fail-on client-unmasked "$clean"
expect 1 "--fail-on open" -- "$bin" --fail-on open "$many"
expect 1 "--fail-on handshake-failed" -- "$bin" --fail-on handshake-failed "$rejected"
expect 2 "--fail-on unknown condition" -- "$bin" --fail-on bogus "$clean"
expect 2 "input error beats --fail-on" -- "$bin" --fail-on 1006 "$rst" "$tmp/none.pcap"

expect 0 "--conn 3" -- "$bin" --format json --conn 3 "$many"
check "--conn 3 gives connection 3 only" "[c['id'] for c in j['connections']] == [3]"
expect 2 "--conn of a connection that does not exist" -- "$bin" --conn 99 "$many"

expect 0 "-f excluding everything" -- "$bin" --format json -f 'tcp port 1' "$clean"
check "-f: no connection, no packet" "j['connections'] == [] and j['captures'][0]['packets'] == 0"
expect 0 "-r FILE" -- "$bin" --format json -r "$rst"
check "-r: the 1006" "[c['verdict']['code'] for c in j['connections']] == [1006]"
expect 0 "standard input" -- bash -c "\"$bin\" --format json - < $rst"
check "stdin: the same verdict" "[c['verdict']['code'] for c in j['connections']] == [1006] and j['captures'][0]['file'] == '-'"
expect 0 "two files in one run" -- "$bin" --format json "$clean" "$rst"
check "two files: both captures, ids in first-packet order" \
  "len(j['captures']) == 2 and [c['verdict']['code'] for c in j['connections']] == [1000, 1006] and [c['id'] for c in j['connections']] == [1, 2]"
expect 0 "-o FILE" -- "$bin" --format json -o "$tmp/report.json" "$many"
cp "$tmp/report.json" "$tmp/out"
check "-o: 12 connections" "len(j['connections']) == 12 and j['summary']['connections'] == 12"
expect 0 "jsonl" -- "$bin" --format jsonl "$many"
[ "$(wc -l <"$tmp/out")" = 12 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL jsonl: one line per connection"; }
expect 0 "markdown" -- "$bin" --format markdown "$rst"
grep -q "^# wsdiag report" "$tmp/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL markdown title"; }
expect 0 "--color always" -- "$bin" --color always "$rst"
grep -q $'\033\[' "$tmp/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL --color always: no colour"; }
expect 0 "NO_COLOR wins" -- env NO_COLOR=1 "$bin" --color always "$rst"
grep -q $'\033\[' "$tmp/out" && { fail=$((fail + 1)); echo "FAIL NO_COLOR: colour printed"; } || pass=$((pass + 1))
expect 0 "text to a pipe has no colour" -- "$bin" "$rst"
grep -q $'\033\[' "$tmp/out" && { fail=$((fail + 1)); echo "FAIL colour in a pipe"; } || pass=$((pass + 1))

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
