#!/usr/bin/env bash
# A way through big captures (issue #13 §3) on samples/many-connections-mixed.pcap (scripts/
# make-samples s_many_connections_mixed: real python websockets endpoints, 12 connections ending
# every way) and the multi-connection patterns samples:
#   --only LIST   the --fail-on syntax; only the matching connections, in every format; a bad token
#                 is refused; --only with --frames is refused
#   --format table  one line per connection with the nine columns; the groups after it
#   text          each block prints its Wireshark filter; the summary groups ids by verdict, server, path, cause
#   --save-pcap   the saved file holds exactly the reported connections' packets: wsdiag and tshark
#                 on it find the same connections with the same verdicts
#   markdown      under 65,536 bytes on every sample; on a capture too big for it, the problem
#                 sections left out are counted and named, with how to see them
#
# usage: big_captures.sh WSDIAG_BIN SOURCE_DIR    (registered by tests/CMakeLists.txt)
set -u
BIN=${1:?usage: big_captures.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: big_captures.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
CAP="$SRC/samples/many-connections-mixed.pcap"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-big.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
W() { "$BIN" --no-progress "$@"; }

# --- --only, in every format ---
W --format json "$CAP" >"$WORK/all.json"
want=$(jq -r '[.connections[] | select(.verdict.code == 1006) | .id] | join(" ")' "$WORK/all.json")
[ -n "$want" ] || bad "the sample has no 1006 connection: the checks below could not fail"
W --format json --only 1006 "$CAP" >"$WORK/only.json"
got=$(jq -r '[.connections[] | .id] | join(" ")' "$WORK/only.json")
[ "$got" = "$want" ] && ok "--only 1006 (json): connections $got" || bad "--only 1006 (json): got '$got', want '$want'"
got=$(W --format jsonl --only 1006 "$CAP" | jq -r '.id' | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] && ok "--only 1006 (jsonl)" || bad "--only 1006 (jsonl): got '$got', want '$want'"
rows() { awk 'NR > 1 && /^$/ {exit} NR > 1 {print $1}'; }  # the table's lines, not its groups
got=$(W --format table --only 1006 "$CAP" | rows | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] && ok "--only 1006 (table)" || bad "--only 1006 (table): got '$got', want '$want'"
got=$(W --only 1006 "$CAP" | sed -n 's/^#\([0-9]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] && ok "--only 1006 (text)" || bad "--only 1006 (text): got '$got', want '$want'"
got=$(W --format markdown --only 1006 "$CAP" | sed -n 's/^### #\([0-9]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] && ok "--only 1006 (markdown)" || bad "--only 1006 (markdown): got '$got', want '$want'"
# several conditions, as --fail-on reads them: a close code, a severity, open, handshake-failed
want2=$(jq -r '[.connections[] | select(.verdict.code == 1011 or .verdict.name == "open" or .verdict.severity == "error") | .id] | join(" ")' "$WORK/all.json")
got=$(W --format json --only 1011,open,error "$CAP" | jq -r '[.connections[] | .id] | join(" ")')
[ "$got" = "$want2" ] && ok "--only 1011,open,error: $got" || bad "--only 1011,open,error: got '$got', want '$want2'"
if W --only nonsense-token "$CAP" >/dev/null 2>"$WORK/err"; then
  bad "--only with an unknown token was accepted"
else
  grep -q "unknown condition 'nonsense-token'" "$WORK/err" && ok "--only refuses an unknown token" || bad "--only error text: $(cat "$WORK/err")"
fi
if W --only 1006 --frames "$CAP" >/dev/null 2>&1; then bad "--only --frames was accepted"; else ok "--only --frames is refused"; fi
# --fail-on sees the reported connections only
W --only 1000 --fail-on 1006 "$CAP" >/dev/null 2>&1
[ $? -eq 0 ] && ok "--only 1000 --fail-on 1006: exit 0" || bad "--only 1000 --fail-on 1006 did not exit 0"
W --only 1006 --fail-on 1006 "$CAP" >/dev/null 2>&1
[ $? -eq 1 ] && ok "--only 1006 --fail-on 1006: exit 1" || bad "--only 1006 --fail-on 1006 did not exit 1"

# --- --format table ---
W --format table "$CAP" >"$WORK/table.txt"
head -n 1 "$WORK/table.txt" | grep -Eq '^id +client +server +path +verdict +side +duration +idle-end +cause$' &&
  ok "table header" || bad "table header: $(head -n 1 "$WORK/table.txt")"
n_conn=$(jq '.connections | length' "$WORK/all.json")
n_rows=$(rows <"$WORK/table.txt" | wc -l)
[ "$n_rows" -eq "$n_conn" ] && ok "table: $n_rows lines for $n_conn connections" || bad "table: $n_rows lines for $n_conn connections"
# each line's verdict and path are the JSON report's
mism=0
while read -r id path code; do
  line=$(awk -v id="$id" '/^$/ {exit} $1 == id' "$WORK/table.txt")
  case "$line" in *" $path "*) ;; *) mism=$((mism + 1)) ;; esac
  [ "$code" = null ] || case "$line" in *" $code "*) ;; *) mism=$((mism + 1)) ;; esac
done < <(jq -r '.connections[] | "\(.id) \(.handshake.path) \(.verdict.code)"' "$WORK/all.json")
[ "$mism" -eq 0 ] && ok "table lines agree with the JSON report" || bad "table: $mism cells disagree with the JSON report"
grep -q '^[0-9]* groups\? (verdict, server, path, cause):' "$WORK/table.txt" && ok "table: groups follow" || bad "table: no groups"

# --- text: groups with ids, a Wireshark filter per connection ---
P="$SRC/samples/graceful-restart-1012.pcap"
W "$P" >"$WORK/groups.txt"
n=$(W --format json "$P" | jq '[.connections[] | select(.verdict.code == 1012)] | length')
grep -Eq "^  1012 Service Restart +[^ ]+ +/ +[^ ]+ +x$n: #1 #2" "$WORK/groups.txt" &&
  ok "text summary groups the $n 1012s of one server and path, with ids" || { bad "text groups:"; sed -n '/^groups/,/^$/p' "$WORK/groups.txt"; }
nc=$(W --format json "$P" | jq '.connections | length')
nf=$(grep -c '^  wireshark  ip.addr==10\.77\.1\.2 && ip.addr==10\.77\.2\.2 && tcp.port==[0-9]* && tcp.port==8765$' "$WORK/groups.txt")
[ "$nf" -eq "$nc" ] && ok "text: a Wireshark filter in each of the $nc blocks" || bad "text: $nf Wireshark filters for $nc connections"
W --anonymize "$CAP" | grep -q '^  wireshark  tcp.port==[0-9]* && tcp.port==[0-9]*$' &&
  ok "--anonymize: the filter names ports only" || bad "--anonymize: filter shows addresses or is missing"

# --- --save-pcap ---
W --only 1006 --save-pcap "$WORK/1006.pcap" "$CAP" >/dev/null 2>"$WORK/save.err"
grep -q "packets of $(echo "$want" | wc -w) reported connections saved" "$WORK/save.err" &&
  ok "--save-pcap: $(cat "$WORK/save.err")" || bad "--save-pcap message: $(cat "$WORK/save.err")"
got=$(W --format json "$WORK/1006.pcap" | jq -r '[.connections[] | "\(.client) \(.verdict.code)"] | sort | join(",")')
exp=$(jq -r '[.connections[] | select(.verdict.code == 1006) | "\(.client) \(.verdict.code)"] | sort | join(",")' "$WORK/all.json")
[ "$got" = "$exp" ] && ok "the saved pcap holds the 1006 connections, same verdicts" || bad "saved pcap: got '$got', want '$exp'"
if command -v tshark >/dev/null; then
  # every packet of those connections, and no other: tshark counts them in the original and the copy
  filt=$(jq -r '[.connections[] | select(.verdict.code == 1006) | .client | split(":") | "tcp.port==\(.[1])"] | join(" || ")' "$WORK/all.json")
  a=$(tshark -r "$CAP" -Y "$filt" 2>/dev/null | wc -l)
  b=$(tshark -r "$WORK/1006.pcap" 2>/dev/null | wc -l)
  [ "$a" -eq "$b" ] && [ "$a" -gt 0 ] && ok "tshark: $b packets saved, $a in the capture for those connections" || bad "tshark: $b packets saved, $a expected"
fi
if W --save-pcap "$WORK/x.pcap" - <"$CAP" >/dev/null 2>&1; then bad "--save-pcap with standard input was accepted"; else ok "--save-pcap refuses standard input"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
