#!/usr/bin/env bash
# Multi-threaded analysis (--threads N) gives byte-identical reports to one thread.
#
# usage: threads.sh WSDIAG_BIN SOURCE_DIR      (registered by tests/CMakeLists.txt; 77 = skipped)
#
# Sharding is proven on inputs with many connections: all samples at once (each file's
# connections numbered after the previous file's), every corpus capture at once when ../shared is
# there, and each sample alone. For each: --format json, text and markdown, with --all (non-WebSocket
# connections too), at --threads 1, 2, 3 and 5; and an odd --max-connections so the per-shard
# eviction budget is exercised for exit status and survival (not identity: eviction order is per shard).
# A file that cannot be read among good ones gives the same error line and exit status threaded.
set -u

BIN=${1:?usage: threads.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: threads.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-threads.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

shopt -s nullglob
samples=("$SRC"/samples/*.pcap "$SRC"/samples/*.pcapng)
corpus=()
if [ -d "$SRC/../shared/corpus" ]; then
  mapfile -t corpus < <(find "$SRC/../shared/corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
fi
if [ ${#samples[@]} -eq 0 ]; then
  echo "SKIP: no samples"
  exit 77
fi

# compare NAME FILE...: every format and thread count against --threads 1
compare() {
  local name=$1
  shift
  local fmt t rc1 rc
  for fmt in json text markdown; do
    "$BIN" --threads 1 --all --no-progress --color never --format "$fmt" "$@" >"$WORK/one" 2>"$WORK/one.err"
    rc1=$?
    local same=1
    for t in 2 3 5; do
      "$BIN" --threads "$t" --all --no-progress --color never --format "$fmt" "$@" >"$WORK/many" 2>"$WORK/many.err"
      rc=$?
      if [ "$rc" != "$rc1" ] || ! cmp -s "$WORK/one" "$WORK/many" || ! cmp -s "$WORK/one.err" "$WORK/many.err"; then
        same=0
        echo "  --threads $t --format $fmt differs from --threads 1 (exit $rc vs $rc1):"
        diff "$WORK/one" "$WORK/many" | head -20
        diff "$WORK/one.err" "$WORK/many.err" | head -5
        break
      fi
    done
    if [ $same = 1 ]; then ok "$name --format $fmt (threads 2, 3, 5 = 1)"; else bad "$name --format $fmt"; fi
  done
}

compare "all ${#samples[@]} samples at once" "${samples[@]}"
if [ ${#corpus[@]} -gt 0 ]; then
  compare "all ${#corpus[@]} corpus captures at once" "${corpus[@]}"
else
  echo "skip corpus (../shared/corpus not present)"
fi

# A generated capture with thousands of interleaved connections (reordering, permessage-deflate,
# RST and idle endings), when the benchmark's generator was built beside wsdiag.
GEN="$(dirname "$BIN")/bench/wsdiag_gen"
if [ -x "$GEN" ] && "$GEN" --size-mb 8 --seed 7 "$WORK/gen.pcap" >/dev/null 2>&1; then
  compare "generated 8 MB capture" "$WORK/gen.pcap"
else
  echo "skip generated capture (bench/wsdiag_gen not built)"
fi

# A capture cut short by another program while wsdiag reads it (regular files are memory-mapped):
# never a crash. Whether the cut lands before, during or after the read is up to the scheduler, so
# each run accepts a full report (exit 0), a truncated-capture warning (exit 0) or the one-line
# "shrank while it was being read" error (exit 2) — and nothing else.
if [ -x "$GEN" ] && "$GEN" --size-mb 40 --seed 9 "$WORK/big.pcap" >/dev/null 2>&1; then
  cut_bad=0
  for delay in 0.01 0.03 0.06 0.1; do
    cp "$WORK/big.pcap" "$WORK/cut.pcap"
    "$BIN" --threads 2 --no-progress --format json -o /dev/null "$WORK/cut.pcap" 2>"$WORK/cut.err" &
    pid=$!
    sleep "$delay"
    truncate -s 1000000 "$WORK/cut.pcap"
    wait $pid
    rc=$?
    if [ $rc -ge 128 ] || { [ $rc = 2 ] && ! grep -q "cut.pcap: the file shrank" "$WORK/cut.err"; } ||
       { [ $rc != 0 ] && [ $rc != 2 ]; }; then
      cut_bad=$((cut_bad + 1))
      echo "  truncated after ${delay}s: exit $rc: $(head -2 "$WORK/cut.err")"
    fi
  done
  if [ $cut_bad = 0 ]; then ok "a capture truncated while it is read: no crash, a clear line"; else bad "a capture truncated while it is read"; fi
fi

# The memory-mapped capture is given back behind the read position: peak RSS stays well under the
# file's 40 MB (about 25 MB; it would be 60+ if the mapping stayed resident). Not under sanitizers,
# whose shadow memory counts towards RSS.
if [ -s "$WORK/big.pcap" ] && ! grep -q -a -m1 -e '__asan_init' -e '__tsan_init' "$BIN"; then
  rss_bad=0
  for t in 1 2; do
    python3 "$SRC/tests/tools/run_limited.py" --timeout 60 --stdout /dev/null --stderr "$WORK/rss.err" \
      --report "$WORK/rss.rep" -- "$BIN" --threads "$t" --format json --no-progress "$WORK/big.pcap"
    rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$WORK/rss.rep")
    echo "  --threads $t on a 40 MB capture: peak RSS $((rss / 1024)) MB"
    [ -n "$rss" ] && [ "$rss" -lt $((48 * 1024)) ] && grep -q "status=0" "$WORK/rss.rep" || rss_bad=1
  done
  if [ $rss_bad = 0 ]; then ok "a 40 MB capture read through its memory map: peak RSS under 48 MB"; else bad "peak RSS on a 40 MB capture"; fi
fi

# Each sample alone, JSON (the format scripts read).
alone_bad=0
for f in "${samples[@]}"; do
  "$BIN" --threads 1 --all --no-progress --format json "$f" >"$WORK/a1" 2>/dev/null
  "$BIN" --threads 4 --all --no-progress --format json "$f" >"$WORK/a4" 2>/dev/null
  cmp -s "$WORK/a1" "$WORK/a4" || { alone_bad=$((alone_bad + 1)); echo "  differs: $(basename "$f")"; }
done
if [ $alone_bad = 0 ]; then ok "each sample alone, --threads 4 = 1"; else bad "each sample alone ($alone_bad differ)"; fi

# A bad file among good ones: same error line, same exit status, the good files still reported.
printf 'not a capture at all\n' >"$WORK/junk.pcap"
"$BIN" --threads 1 --no-progress --format json "${samples[0]}" "$WORK/junk.pcap" "${samples[1]}" >"$WORK/b1" 2>"$WORK/b1.err"
rc1=$?
"$BIN" --threads 3 --no-progress --format json "${samples[0]}" "$WORK/junk.pcap" "${samples[1]}" >"$WORK/b3" 2>"$WORK/b3.err"
rc3=$?
if [ "$rc1" = 2 ] && [ "$rc3" = 2 ] && cmp -s "$WORK/b1" "$WORK/b3" && cmp -s "$WORK/b1.err" "$WORK/b3.err" &&
   grep -q "junk.pcap" "$WORK/b3.err" && [ "$(wc -l <"$WORK/b3.err")" = 1 ]; then
  ok "an unreadable file among good ones: one error line, exit 2, same report"
else
  bad "an unreadable file among good ones (exit $rc1 vs $rc3)"; cat "$WORK/b1.err" "$WORK/b3.err"
fi

# Eviction budget split across shards: still a complete run.
if "$BIN" --threads 3 --max-connections 2 --no-progress --format json "${samples[@]}" >"$WORK/e" 2>/dev/null &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["connections"]' "$WORK/e" 2>/dev/null; then
  ok "--threads 3 --max-connections 2: a complete, valid report"
else
  bad "--threads 3 --max-connections 2"
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
