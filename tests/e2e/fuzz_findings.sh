#!/usr/bin/env bash
# Regression: the captures a fuzzing campaign found wsdiag misbehaving on (issue #16; the files are
# in tests/fuzz/regressions/, copied from ../shared/fuzz-findings). Each must be analysed in every
# output format without a crash, and give the right answer:
#   - after a permessage-deflate message that fails to inflate, the next (valid) message inflates
#     to its text ("Hello world hello world"), however the failing bytes were stored (stack scratch,
#     a freed out-of-order buffer): the inflater once read that stale input again;
#   - a message that does not end on a DEFLATE block boundary is an inflate-error;
#   - timestamps beyond ±146 years are saturated with a warning, never overflowed.
# The release binary is also run under valgrind when it is installed (ISA-L is not instrumented by
# ASan, so only valgrind sees a read of freed memory inside it).
#
# usage: fuzz_findings.sh WSDIAG_BIN SOURCE_DIR
set -u
BIN=${1:?usage: fuzz_findings.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: fuzz_findings.sh WSDIAG_BIN SOURCE_DIR}
DIR="$SRC/tests/fuzz/regressions"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for f in "$DIR"/*.pcap "$DIR"/*.pcapng "$DIR"/pcap-*.bin; do
  [ -e "$f" ] || continue
  for fmt in text json jsonl markdown; do
    timeout 20 "$BIN" --format "$fmt" "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ $rc -ge 3 ]; then bad "$(basename "$f") --format $fmt: exit $rc: $(head -c 300 "$tmp/err")"; else ok; fi
  done
  timeout 20 "$BIN" --frames "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ $rc -lt 3 ] && ok || bad "$(basename "$f") --frames: exit $rc"
done

# The valid message after a failed one inflates (and the control agrees).
for name in conversation-stale-input conversation-stale-input-client conversation-stale-input-control \
            conversation-stale-input-heap-uaf; do
  if "$BIN" --frames --payload "$DIR/$name.pcap" 2>/dev/null | grep -q $'\t23\tHello world hello world$'; then ok
  else bad "$name: the valid message after the failed one does not inflate to 'Hello world hello world'"; fi
done
"$BIN" --format json "$DIR/conversation-unterminated-deflate.pcap" 2>/dev/null | grep -q '"inflate-error"' \
  && ok || bad "conversation-unterminated-deflate: no inflate-error"

# Saturated timestamps: a warning, and no negative duration.
for f in "$DIR/pcap-timestamp-overflow.bin" "$DIR/pcap-timestamp-subtract-overflow.pcapng"; do
  "$BIN" "$f" >"$tmp/out" 2>"$tmp/err"
  grep -q "warning: .*timestamp" "$tmp/err" && ok || bad "$(basename "$f"): no saturation warning"
  grep -q -- "(-" "$tmp/out" && bad "$(basename "$f"): negative duration in the report" || ok
done

if command -v valgrind >/dev/null 2>&1 && ! grep -q -a -m1 '__asan_init' "$BIN"; then
  for f in "$DIR"/conversation-*.pcap; do
    if valgrind -q --error-exitcode=99 "$BIN" --frames "$f" >/dev/null 2>"$tmp/vg"; then ok
    else bad "valgrind on $(basename "$f"): $(grep -m3 -E 'Invalid|uninitialised' "$tmp/vg")"; fi
  done
else
  echo "note: valgrind not run (not installed, or an ASan build)"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
