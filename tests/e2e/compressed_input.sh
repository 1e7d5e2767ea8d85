#!/usr/bin/env bash
# Compressed captures (issue #13 §4): a .pcap.gz / .pcapng.gz / .pcap.zst / .pcapng.zst gives the
# same report as the capture itself; a cut one is a truncated capture, a corrupt one an error line
# and no report.
#
# usage: compressed_input.sh WSDIAG_BIN SOURCE_DIR    (registered by tests/CMakeLists.txt; 77 = skipped)
set -u
BIN=${1:?usage: compressed_input.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: compressed_input.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
command -v gzip >/dev/null 2>&1 || { echo "SKIP: gzip not found"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-gz.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
for s in close-1000-by-client.pcap dumpcap.pcapng deflate-context-takeover.pcap; do
  [ -f "$SRC/samples/$s" ] || continue
  cp "$SRC/samples/$s" "$WORK/$s"
  gzip -c "$WORK/$s" >"$WORK/$s.gz"
  "$BIN" --no-progress --format json "$WORK/$s" | grep -v '"file"' >"$WORK/plain.json"
  "$BIN" --no-progress --format json "$WORK/$s.gz" | grep -v '"file"' >"$WORK/gz.json"
  if [ -s "$WORK/plain.json" ] && cmp -s "$WORK/plain.json" "$WORK/gz.json"; then ok "$s.gz = $s"; else bad "$s.gz differs from $s"; fi
  if command -v zstd >/dev/null 2>&1; then
    zstd -q -c "$WORK/$s" >"$WORK/$s.zst"
    "$BIN" --no-progress --format json "$WORK/$s.zst" | grep -v '"file"' >"$WORK/zst.json"
    if [ -s "$WORK/plain.json" ] && cmp -s "$WORK/plain.json" "$WORK/zst.json"; then ok "$s.zst = $s"; else bad "$s.zst differs from $s"; fi
  fi
done
if command -v zstd >/dev/null 2>&1; then
  # several frames one after the other (zstd -c a; zstd -c b) are one stream, as zstd -d reads them
  head -c 1000 "$WORK/close-1000-by-client.pcap" | zstd -q -c >"$WORK/two.pcap.zst"
  tail -c +1001 "$WORK/close-1000-by-client.pcap" | zstd -q -c >>"$WORK/two.pcap.zst"
  "$BIN" --no-progress --format json "$WORK/close-1000-by-client.pcap" | grep -v '"file"' >"$WORK/plain.json"
  "$BIN" --no-progress --format json "$WORK/two.pcap.zst" | grep -v '"file"' >"$WORK/two.json"
  cmp -s "$WORK/plain.json" "$WORK/two.json" && ok "zstd: two frames read as one stream" || bad "zstd: two frames differ"
  # zstd decodes whole blocks: a file cut inside its first block holds no packet at all (a cut
  # header, an error). Cut inside the second frame instead: the first frame's packets are read.
  first=$(head -c 1000 "$WORK/close-1000-by-client.pcap" | zstd -q -c | wc -c)
  head -c $((first + 20)) "$WORK/two.pcap.zst" >"$WORK/cut.pcap.zst"
  "$BIN" --no-progress "$WORK/cut.pcap.zst" >"$WORK/cutz.out" 2>"$WORK/cutz.err"
  rc=$?
  [ $rc -eq 0 ] && grep -q "ends in the middle of a record" "$WORK/cutz.err" && ok "cut zstd: packets before the cut, a warning" \
    || bad "cut zstd: exit $rc, stderr '$(cat "$WORK/cutz.err")'"
  printf '\x28\xb5\x2f\xfdnot really zstd' >"$WORK/bad.pcap.zst"
  "$BIN" --no-progress "$WORK/bad.pcap.zst" >"$WORK/badz.out" 2>"$WORK/badz.err"
  rc=$?
  [ $rc -eq 2 ] && grep -q "error" "$WORK/badz.err" && [ ! -s "$WORK/badz.out" ] && ok "bad zstd: error line, no report" \
    || bad "bad zstd: exit $rc, stderr '$(cat "$WORK/badz.err")', stdout $(wc -c <"$WORK/badz.out") bytes"
else
  echo "note: zstd not installed, .zst not tested"
fi
head -c 300 "$WORK/close-1000-by-client.pcap.gz" >"$WORK/cut.pcap.gz"
"$BIN" --no-progress "$WORK/cut.pcap.gz" >"$WORK/cut.out" 2>"$WORK/cut.err"
rc=$?
# like a cut .pcap: the packets before the cut are analysed, and the file is called truncated
[ $rc -eq 0 ] && grep -q "ends in the middle of a record" "$WORK/cut.err" && ok "cut gzip: packets before the cut, a warning" \
  || bad "cut gzip: exit $rc, stderr '$(cat "$WORK/cut.err")'"
printf '\x1f\x8bnot really gzip' >"$WORK/bad.pcap.gz"
"$BIN" --no-progress "$WORK/bad.pcap.gz" >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
[ $rc -eq 2 ] && grep -q "error" "$WORK/bad.err" && [ ! -s "$WORK/bad.out" ] && ok "bad gzip: error line, no report" \
  || bad "bad gzip: exit $rc, stderr '$(cat "$WORK/bad.err")', stdout $(wc -c <"$WORK/bad.out") bytes"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
