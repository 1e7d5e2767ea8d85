#!/usr/bin/env bash
# Differential (RFC 7692): every permessage-deflate message in the samples (and in the two compressed
# captures of ../shared/corpus, when present) inflates in wsdiag (--frames message_len, text_preview) to
# exactly what tshark shows. Skips (77) only when tshark is absent.
set -euo pipefail
bin=$1 src=$2
if ! command -v tshark >/dev/null 2>&1; then
  echo "SKIP: tshark not found"
  exit 77
fi
exec python3 "$src/tests/tools/compare_inflate.py" "$bin" "$src"
