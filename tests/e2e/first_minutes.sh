#!/usr/bin/env bash
# What a new user hits first (issue #13 §4): fatal input errors, --conn range, options that do
# nothing offline, -c N offline, --frames with --format, --version's libraries.
#
# usage: first_minutes.sh WSDIAG_BIN SOURCE_DIR    (registered by tests/CMakeLists.txt)
set -u
BIN=${1:?usage: first_minutes.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: first_minutes.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
cd "$SRC" || exit 1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-first.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
# run WANT_RC NAME ARGS... -> $WORK/out, $WORK/err
run() {
  local want=$1 name=$2; shift 2
  "$BIN" --no-progress "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [ $rc -eq "$want" ]; then ok "$name (exit $rc)"; else bad "$name: exit $rc, want $want: $(head -c 300 "$WORK/err")"; fi
}
has() { if grep -qE -- "$2" "$WORK/$1"; then ok "$3"; else bad "$3: no /$2/ in $1: $(head -c 300 "$WORK/$1")"; fi; }
clean=samples/close-1000-by-client.pcap

for bad_input in "$WORK/none.pcap" "$WORK" "$SRC/README.md"; do
  run 2 "fatal input $(basename "$bad_input")" "$bad_input"
  has err "^wsdiag: .*: error: " "fatal input $(basename "$bad_input") says error"
  [ ! -s "$WORK/out" ] && ok "fatal input $(basename "$bad_input"): no report" || bad "fatal input $(basename "$bad_input"): a report on stdout"
done
run 2 "bad filter" -f "tcp port" "$clean"
has err "error" "bad filter says error"
[ ! -s "$WORK/out" ] && ok "bad filter: no report" || bad "bad filter: a report on stdout"

run 2 "--conn 0" --conn 0 "$clean"
has err "start at 1" "--conn 0 says ids start at 1"
run 2 "--conn -1" --conn -1 "$clean"
run 2 "--conn 99" --conn 99 "$clean"
has err "1-[0-9]+" "--conn 99 gives the valid range"

run 2 "--frames --format json" --frames --format json "$clean"
run 0 "--frames --format text" --frames --format text "$clean"
for o in "-w $WORK/x.pcap" "--duration 5" "-Z nobody"; do
  # shellcheck disable=SC2086
  run 2 "$o offline" $o "$clean"
  has err "live capture" "$o offline says why"
done

run 0 "-c 5 offline" -c 5 --format json "$clean"
has out '"packets": 5,' "-c 5 reads 5 packets"

run 0 "--version" --version
for lib in "^wsdiag [0-9]" "libpcap" "inflate: (isa-l|zlib) [0-9]" "OpenSSL [0-9]"; do has out "$lib" "--version names $lib"; done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
