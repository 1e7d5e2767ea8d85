#!/usr/bin/env bash
# Differential test: `wsdiag --streams` against tshark's `follow,tcp,raw`, byte for byte, both directions
# of every TCP connection.
#
# usage: streams_vs_tshark.sh WSDIAG_BIN SOURCE_DIR     (registered by tests/CMakeLists.txt; 77 = skipped)
#
# Captures: every *.pcap / *.pcapng under SOURCE_DIR/../shared/corpus (skipped with a note when that
# folder is absent), and the generated scenarios of tests/tools/pcapgen.py (always). For generated ones
# the generator's own truth is checked too (bytes and gap bytes). How tshark's output is read, why
# tcp.reassemble_out_of_order stays at its default, and how gaps are excluded from both sides: see the
# docstring of tests/tools/compare_streams.py. In short: tshark replaces bytes it never saw (but saw
# ACKed) by a "[N bytes missing in capture file]" chunk; those chunks are removed and counted, wsdiag
# leaves gap bytes out of its files, so the remaining bytes must be identical; gap counts are printed.
#
# Before testing wsdiag, a harness self-check proves the comparer can pass and fail: the generator's truth
# written as a streams directory must match tshark, and a copy with one byte changed must not.
#
# Environment: WSDIAG_CORPUS overrides the corpus folder; TSHARK the tshark binary; WSDIAG_SHUFFLE_SEEDS
# how many seeds of the random "shuffle" scenario to run (default 20).
set -u

BIN=${1:?usage: streams_vs_tshark.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: streams_vs_tshark.sh WSDIAG_BIN SOURCE_DIR}
TOOLS="$SRC/tests/tools"
CORPUS=${WSDIAG_CORPUS:-$SRC/../shared/corpus}
TSHARK=${TSHARK:-tshark}

if ! command -v "$TSHARK" >/dev/null 2>&1; then
  echo "SKIP: tshark not found; it is the reference this test compares wsdiag with"
  exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 not found (needed by tests/tools/compare_streams.py)"
  exit 77
fi
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
if [ ! -x "$BIN" ]; then
  echo "FAIL: wsdiag binary $BIN is missing or not executable"
  echo "0 passed, 1 failed"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-streams.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

pass=0
fail=0
gap_lines=()
failed=()

# run_compare LABEL CAPTURE ARGS... : one comparison, counted as one test.
run_compare() {
  local label=$1 capture=$2
  shift 2
  local log="$WORK/log"
  python3 "$TOOLS/compare_streams.py" "$capture" --tshark "$TSHARK" --label "$label" "$@" >"$log" 2>&1
  local rc=$?
  local result
  result=$(grep '^RESULT ' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1))
    echo "ok   $label  ${result#RESULT $label pass }"
  else
    fail=$((fail + 1))
    failed+=("$label")
    echo "FAIL $label"
  fi
  # details: failures, and the gap notes (counts are part of the report even when passing)
  grep -E '^  (FAIL|note) ' "$log" | sed 's/^  /     /' | head -40
  if [ "$(grep -c -E '^  (FAIL|note) ' "$log")" -gt 40 ]; then
    echo "     ... ($(grep -c -E '^  (FAIL|note) ' "$log") lines; first 40 shown)"
  fi
  if ! grep -q '^RESULT ' "$log"; then   # the comparer itself broke: show its output
    sed 's/^/     | /' "$log" | tail -20
  fi
  case "$result" in
    *gaps_wsdiag=0/0\ gaps_tshark=0/0*|"") ;;
    *) gap_lines+=("$label: conns=${result##* conns=}") ;;
  esac
}

# --- generated scenarios ----------------------------------------------------------------------------
GEN="$WORK/gen"
mkdir -p "$GEN"
scenarios=$(python3 "$TOOLS/pcapgen.py" list | cut -f1)
if [ -z "$scenarios" ]; then
  echo "FAIL: tests/tools/pcapgen.py list printed no scenarios"
  echo "0 passed, 1 failed"
  exit 1
fi
# Generated captures as NAME[:SEED]; "shuffle" runs with several seeds, the others with the default one.
gen_list=()
for s in $scenarios; do
  if [ "$s" = shuffle ]; then
    for ((seed = 1; seed <= ${WSDIAG_SHUFFLE_SEEDS:-20}; seed++)); do gen_list+=("shuffle:$seed"); done
  else
    gen_list+=("$s")
  fi
done
gen_ok=1
for g in "${gen_list[@]}"; do
  s=${g%%:*}
  seed=1
  [ "$g" != "$s" ] && seed=${g#*:}
  ext=pcap
  [ "$s" = pcapng ] && ext=pcapng
  if ! python3 "$TOOLS/pcapgen.py" scenario "$s" "$GEN/$g.$ext" --format "$ext" --seed "$seed" \
        --truth "$GEN/$g.json" --streams-dir "$GEN/$g.truthdir"; then
    echo "FAIL: could not generate scenario $s (seed $seed)"
    fail=$((fail + 1))
    failed+=("gen:$g")
    gen_ok=0
  fi
done

# --- harness self-check -----------------------------------------------------------------------------
if [ $gen_ok = 1 ]; then
  echo "# harness self-check (generator truth vs tshark; must pass, and fail once corrupted)"
  run_compare "self-check:reorder-dup-drop" "$GEN/reorder-dup-drop.pcap" \
    --dir "$GEN/reorder-dup-drop.truthdir" --truth "$GEN/reorder-dup-drop.json"
  bad="$WORK/corrupt"
  cp -r "$GEN/reorder-dup-drop.truthdir" "$bad"
  python3 - "$bad/1.s2c.bin" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x20
open(p, "wb").write(bytes(b))
EOF
  if python3 "$TOOLS/compare_streams.py" "$GEN/reorder-dup-drop.pcap" --tshark "$TSHARK" \
        --dir "$bad" --label corrupted >"$WORK/log" 2>&1; then
    fail=$((fail + 1))
    failed+=("self-check:corrupted-copy")
    echo "FAIL self-check:corrupted-copy: the comparer accepted a stream with one byte changed"
  elif grep -q 'first differing offset' "$WORK/log"; then
    pass=$((pass + 1))
    echo "ok   self-check:corrupted-copy (a changed byte is reported: $(grep -o 'first differing offset [0-9]*' "$WORK/log" | head -1))"
  else
    fail=$((fail + 1))
    failed+=("self-check:corrupted-copy")
    echo "FAIL self-check:corrupted-copy: comparer failed without a byte diff:"
    sed 's/^/     | /' "$WORK/log" | tail -5
  fi
fi

echo "# generated scenarios (tests/tools/pcapgen.py) vs tshark and generator truth"
for g in "${gen_list[@]}"; do
  ext=pcap
  [ "${g%%:*}" = pcapng ] && ext=pcapng
  [ -f "$GEN/$g.$ext" ] || continue
  run_compare "gen:$g" "$GEN/$g.$ext" --wsdiag "$BIN" --truth "$GEN/$g.json"
done

# --- samples made over real tunnels (scripts/samples/tunnels.sh): tshark decapsulates too -----------
for f in "$SRC"/samples/tunnel-*.pcap; do
  [ -f "$f" ] && run_compare "sample:${f##*/}" "$f" --wsdiag "$BIN"
done

# --- corpus -----------------------------------------------------------------------------------------
if [ -d "$CORPUS" ]; then
  echo "# corpus captures under $CORPUS"
  n=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    run_compare "corpus:${f#"$CORPUS"/}" "$f" --wsdiag "$BIN"
  done < <(find "$CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' \) -print0 | sort -z)
  [ $n -gt 0 ] || echo "note: no *.pcap/*.pcapng under $CORPUS"
else
  echo "note: corpus $CORPUS absent; only the generated scenarios were compared"
fi

if [ ${#gap_lines[@]} -gt 0 ]; then
  echo "# captures with gaps (gaps_X=count/bytes; wsdiag's count is its index's gaps column)"
  for g in "${gap_lines[@]}"; do echo "     $g"; done
fi
if [ $fail -gt 0 ]; then
  echo "# failed: ${failed[*]}"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
