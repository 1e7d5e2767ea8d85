#!/usr/bin/env bash
# Expected verdicts: every connection of every sample gets the verdict tests/expected-verdicts.tsv
# gives it (code, side, how TCP ended, rule ids that must be among the findings). Independent of the
# golden files, so a wrong golden file can never bless a wrong verdict. Every sample must have a row.
#
# usage: expected_verdicts.sh WSDIAG_BIN SOURCE_DIR    (registered by tests/CMakeLists.txt; 77 = skipped)
# The work is done by tests/tools/check_expected.py (its docstring has the matching rules).
set -u
BIN=${1:?usage: expected_verdicts.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: expected_verdicts.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 not found"
  exit 77
fi
if [ ! -x "$BIN" ]; then
  echo "FAIL: wsdiag binary $BIN is missing or not executable"
  echo "0 passed, 1 failed"
  exit 1
fi
exec python3 "$SRC/tests/tools/check_expected.py" "$BIN" "$SRC"
