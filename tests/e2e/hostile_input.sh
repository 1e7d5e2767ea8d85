#!/usr/bin/env bash
# Hostile inputs: wsdiag must fail cleanly, never crash, hang or balloon.
#
# usage: hostile_input.sh WSDIAG_BIN SOURCE_DIR      (registered by tests/CMakeLists.txt; 77 = skipped)
#
# The inputs are generated at test time (tests/tools/pcapgen.py hostile DIR, which also writes
# DIR/EXPECT.tsv: name, expected outcome, description). Each one is run twice, in the default report
# mode and in `--streams OUTDIR` mode, from inside the temp dir with a relative path, so "FILE as given"
# is checked literally. Expected outcomes (docs: /work/shared/design/CLI.md "Exit status"):
#   error  exit 2; stderr is exactly one line, starting with "wsdiag: FILE: " (not a warning)
#   warn   the capture ends mid-record: exit 0; a "wsdiag: FILE: warning: ..." line on stderr and no error
#          line; the report of what was read is still produced (stdout not empty; in --streams mode
#          OUTDIR/index.tsv has a header and at least one connection)
#   ok     a strange but valid capture: exit 0, no error line
# Every run: no crash (status < 128), no hang (10 s timeout), peak RSS under 64 MB (WSDIAG_RSS_LIMIT_KB
# overrides; an ASan build gets 8x, since the sanitizer's shadow memory counts towards RSS).
# Peak RSS and the timeout come from tests/tools/run_limited.py (os.wait4 rusage; /usr/bin/time -f %M
# would give the same number but is not installed on every CI image).
set -u

BIN=${1:?usage: hostile_input.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: hostile_input.sh WSDIAG_BIN SOURCE_DIR}
TOOLS="$SRC/tests/tools"

if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 not found (needed to generate the hostile inputs)"
  exit 77
fi
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
if [ ! -x "$BIN" ]; then
  echo "FAIL: wsdiag binary $BIN is missing or not executable"
  echo "0 passed, 1 failed"
  exit 1
fi

TIMEOUT=10
RSS_LIMIT_KB=${WSDIAG_RSS_LIMIT_KB:-65536}
if grep -q -a -m1 '__asan_init' "$BIN" 2>/dev/null && [ -z "${WSDIAG_RSS_LIMIT_KB:-}" ]; then
  RSS_LIMIT_KB=$((RSS_LIMIT_KB * 8))
  echo "note: ASan build, peak RSS limit raised to $((RSS_LIMIT_KB / 1024)) MB"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-hostile.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
INPUTS="$WORK/in"
if ! python3 "$TOOLS/pcapgen.py" hostile "$INPUTS"; then
  echo "FAIL: could not generate the hostile inputs"
  echo "0 passed, 1 failed"
  exit 1
fi

pass=0
fail=0

# check NAME MODE EXPECT
check() {
  local name=$1 mode=$2 expect=$3
  local tag="$name [$mode]"
  local out="$WORK/out.$$" err="$WORK/err.$$" rep="$WORK/rep.$$" sdir="$WORK/streams.$$"
  rm -rf "$sdir" "$out" "$err" "$rep"
  local -a args=()
  [ "$mode" = streams ] && args=(--streams "$sdir")
  (cd "$INPUTS" && python3 "$TOOLS/run_limited.py" --timeout "$TIMEOUT" --stdout "$out" \
      --stderr "$err" --report "$rep" -- "$BIN" "${args[@]}" "$name")
  local status rss timed_out
  status=$(sed -n 's/.*status=\([0-9]*\).*/\1/p' "$rep")
  rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$rep")
  timed_out=$(sed -n 's/.*timed_out=\([0-9]*\).*/\1/p' "$rep")
  local problems=()
  local prefix="wsdiag: $name: "
  local n_lines n_prefixed n_warn n_err
  n_lines=$(grep -c '' "$err")
  n_prefixed=$(awk -v p="$prefix" 'index($0, p) == 1' "$err" | wc -l)
  n_warn=$(awk -v p="${prefix}warning: " 'index($0, p) == 1' "$err" | wc -l)
  n_err=$((n_prefixed - n_warn))

  if [ "$timed_out" = 1 ]; then
    problems+=("hung: killed after ${TIMEOUT}s")
  elif [ "$status" -ge 128 ]; then
    problems+=("crashed: status $status (signal $((status - 128)))")
  fi
  if [ "$rss" -gt "$RSS_LIMIT_KB" ]; then
    problems+=("peak RSS $((rss / 1024)) MB > $((RSS_LIMIT_KB / 1024)) MB")
  fi
  case "$expect" in
    error)
      [ "$status" = 2 ] || problems+=("exit status $status, expected 2")
      if [ "$n_lines" != 1 ] || [ "$n_err" != 1 ]; then
        problems+=("stderr should be exactly one line starting with '$prefix' (not a warning); got $n_lines line(s), $n_err such")
      fi
      ;;
    warn)
      [ "$status" = 0 ] || problems+=("exit status $status, expected 0 (truncated capture: warn and report)")
      [ "$n_warn" -ge 1 ] || problems+=("no '${prefix}warning: ...' line on stderr")
      [ "$n_err" = 0 ] || problems+=("$n_err error line(s) on stderr, expected only a warning")
      if [ "$mode" = streams ]; then
        local rows=0
        [ -f "$sdir/index.tsv" ] && rows=$(($(grep -c '' "$sdir/index.tsv") - 1))
        [ "$rows" -ge 1 ] || problems+=("no partial result: $sdir/index.tsv missing or without connections")
      else
        [ -s "$out" ] || problems+=("no partial report on stdout")
      fi
      ;;
    ok)
      [ "$status" = 0 ] || problems+=("exit status $status, expected 0")
      [ "$n_err" = 0 ] || problems+=("$n_err error line(s) on stderr")
      if [ "$mode" = streams ] && [ "$status" = 0 ] && [ ! -f "$sdir/index.tsv" ]; then
        problems+=("$sdir/index.tsv not written")
      fi
      ;;
  esac

  if [ ${#problems[@]} -eq 0 ]; then
    pass=$((pass + 1))
    echo "ok   $tag: status $status, peak RSS $((rss / 1024)) MB"
  else
    fail=$((fail + 1))
    echo "FAIL $tag (expected $expect):"
    local p
    for p in "${problems[@]}"; do echo "       - $p"; done
    if [ -s "$err" ]; then
      echo "       stderr (first 5 lines):"
      head -5 "$err" | sed 's/^/         | /'
    fi
  fi
  rm -rf "$sdir" "$out" "$err" "$rep"
}

while IFS=$'\t' read -r name expect desc; do
  [ -n "$name" ] || continue
  echo "# $name: $desc"
  check "$name" report "$expect"
  check "$name" streams "$expect"
done < "$INPUTS/EXPECT.tsv"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
