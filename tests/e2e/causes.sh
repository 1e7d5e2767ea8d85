#!/usr/bin/env bash
# Causes (issue #11): every production capture's connection gets the cause it was made to show, and
# its legal neighbours get none (tests/tools/check_causes.py; the truth is tests/expected-causes.tsv).
set -u
BIN=${1:?usage: causes.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: causes.sh WSDIAG_BIN SOURCE_DIR}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
exec python3 "$SRC/tests/tools/check_causes.py" "$BIN" "$SRC"
