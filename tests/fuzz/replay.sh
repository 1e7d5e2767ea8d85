#!/usr/bin/env bash
# Replays fuzz inputs: runs BINARY once on every file of the DIRs (and FILEs) given, in name order.
# BINARY is a fuzz target built with libFuzzer (clang, -DWSDIAG_FUZZ=ON: files given one by one
# are run once each, never fuzzed) or with replay_main.cpp (any other build). Exit 0 if every input
# ran without a sanitizer report or a failed check.
set -euo pipefail
bin=$1
shift
files=()
for a in "$@"; do
  if [ -d "$a" ]; then
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$a" -type f ! -name 'README*' -print0 | sort -z)
  elif [ -e "$a" ]; then
    files+=("$a")
  fi
done
if [ ${#files[@]} -eq 0 ]; then
  echo "replay: no inputs in $*"
  exit 0
fi
echo "replay: ${#files[@]} inputs through $(basename "$bin")"
exec "$bin" "${files[@]}"
