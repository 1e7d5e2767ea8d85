#!/usr/bin/env bash
# Golden reports: wsdiag's JSON and text reports on every sample equal tests/golden/<sample>.{json,txt}.
#
# usage: golden.sh WSDIAG_BIN SOURCE_DIR      (registered by tests/CMakeLists.txt; 77 = skipped)
#
# Regenerates every report into a temp dir exactly as scripts/update-golden does (tests/tools/golden.py:
# run from SOURCE_DIR with samples/<name>, tool version normalised to "VERSION") and diffs it against
# tests/golden/. One line per sample (ok/FAIL), a unified diff under each failure. Also a failure:
# a sample with no golden file ("run scripts/update-golden"), a golden file with no sample, and wsdiag
# exiting non-zero on a sample. After an intended output change: scripts/update-golden, review
# `git diff tests/golden`, commit. Whether a verdict is *right* is tests/e2e/expected_verdicts.sh's job.
set -u

BIN=${1:?usage: golden.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: golden.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
GOLDEN="$SRC/tests/golden"
MAX_DIFF_LINES=${GOLDEN_DIFF_LINES:-80}

if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 not found"
  exit 77
fi
if [ ! -x "$BIN" ]; then
  echo "FAIL: wsdiag binary $BIN is missing or not executable"
  echo "0 passed, 1 failed"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-golden.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

mapfile -t samples < <(python3 "$SRC/tests/tools/golden.py" samples "$SRC")
if [ ${#samples[@]} -eq 0 ]; then
  echo "FAIL: no samples in $SRC/samples"
  echo "0 passed, 1 failed"
  exit 1
fi
python3 "$SRC/tests/tools/golden.py" generate "$BIN" "$SRC" "$WORK" "${samples[@]}" 2>/dev/null

pass=0
fail=0
declare -A have_sample=()
for s in "${samples[@]}"; do
  have_sample[$s]=1
  problems=()
  diffs=()
  if [ -f "$WORK/$s.error" ]; then
    problems+=("wsdiag failed on samples/$s:")
    while IFS= read -r line; do problems+=("  $line"); done < <(head -8 "$WORK/$s.error")
  else
    for ext in json txt; do
      g="$GOLDEN/$s.$ext"
      if [ ! -f "$g" ]; then
        problems+=("no golden file tests/golden/$s.$ext: run scripts/update-golden (and review the result)")
      elif ! cmp -s "$g" "$WORK/$s.$ext"; then
        problems+=("$ext report differs from tests/golden/$s.$ext")
        diffs+=("$ext")
      fi
    done
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    pass=$((pass + 1))
    echo "ok   $s"
  else
    fail=$((fail + 1))
    echo "FAIL $s"
    for p in "${problems[@]}"; do echo "       $p"; done
    for ext in "${diffs[@]}"; do
      diff -u --label "tests/golden/$s.$ext" --label "wsdiag samples/$s ($ext, now)" \
        "$GOLDEN/$s.$ext" "$WORK/$s.$ext" > "$WORK/diff" 
      n=$(grep -c '' "$WORK/diff")
      head -n "$MAX_DIFF_LINES" "$WORK/diff" | sed 's/^/       | /'
      [ "$n" -gt "$MAX_DIFF_LINES" ] && echo "       | ... ($((n - MAX_DIFF_LINES)) more diff lines; GOLDEN_DIFF_LINES=N shows more)"
    done
    [ ${#diffs[@]} -gt 0 ] && echo "       if the change is intended: scripts/update-golden $s, review, commit"
  fi
done

# golden files without a sample
shopt -s nullglob
declare -A orphan=()
for g in "$GOLDEN"/*.json "$GOLDEN"/*.txt; do
  base=$(basename "$g"); base=${base%.*}
  [ -n "${have_sample[$base]:-}" ] || orphan[$base]+=" $(basename "$g")"
done
for base in "${!orphan[@]}"; do
  fail=$((fail + 1))
  echo "FAIL golden file(s)${orphan[$base]} in tests/golden/ but no samples/$base: delete them (scripts/update-golden does)"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
