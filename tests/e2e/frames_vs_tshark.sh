#!/usr/bin/env bash
# Differential: `wsdiag --frames` equals tshark's frame decode (truth/*.frames.tsv) on every corpus
# capture, every frame. Skips (77) when ../shared/corpus is absent.
set -euo pipefail
bin=$1 src=$2
corpus="$src/../shared/corpus"
if [ ! -d "$corpus/truth" ]; then
  echo "SKIP: $corpus not found (the shared corpus is only beside CI's checkout)"
  exit 77
fi
exec python3 "$src/tests/tools/compare_frames.py" "$bin" "$corpus"
