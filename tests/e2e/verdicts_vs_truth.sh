#!/usr/bin/env bash
# Differential: verdicts equal the corpus truth (derived_close_code, violations with side and packet) for every
# connection. Skips (77) when ../shared/corpus is absent.
set -euo pipefail
bin=$1 src=$2
corpus="$src/../shared/corpus"
if [ ! -d "$corpus/truth" ]; then
  echo "SKIP: $corpus not found (the shared corpus is only beside CI's checkout)"
  exit 77
fi
exec python3 "$src/tests/tools/compare_verdicts.py" "$bin" "$corpus"
