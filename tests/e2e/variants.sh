#!/usr/bin/env bash
# Variants of real captures: tests/tools/variants.py rewrites a sample (drop a segment, duplicate,
# reorder, cut to a snaplen, split a segment inside a frame header) and checks wsdiag's report on the
# result against its report on the original: capture-gap / snaplen-truncated where bytes are missing,
# the same verdict where the evidence still holds it (variants.py's docstring has the exact rules).
#
# usage: variants.sh WSDIAG_BIN SOURCE_DIR    (registered by tests/CMakeLists.txt; 77 = skipped)
# Keep the rewritten captures for a look: VARIANTS_KEEP=/some/dir bash tests/e2e/variants.sh ...
#
# 1. The plan below: each listed variant must be buildable from its sample and must pass.
# 2. A sweep over every classic-pcap sample (new ones included): dup and split always, swap and drop
#    where the capture has segments they can use ("?" = optional; pcapng samples are n/a).
set -u
BIN=${1:?usage: variants.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: variants.sh WSDIAG_BIN SOURCE_DIR}
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
TOOL="$SRC/tests/tools/variants.py"
KEEP=()
[ -n "${VARIANTS_KEEP:-}" ] && KEEP=(--keep "$VARIANTS_KEEP")

PLAN=(
  "close-1000-by-client.pcap      dup snaplen:96 snaplen:128 split"            # clean close
  "multi-mb-message.pcap          drop dup swap snaplen:96 snaplen:128 split"  # 2 MiB each way
  "fragmented-with-pings.pcap     dup swap snaplen:96 snaplen:128 split"       # fragments + pings
  "viol-unmasked-client-py.pcap   dup snaplen:96 snaplen:128 split"            # a violation, 1002
  "close-1000-by-server.pcap      swap"                                        # reorder across frames
  "linux-cooked-v1.pcap           dup snaplen:128 split"                       # Linux SLL
  "linux-cooked-any.pcap          dup split"                                   # Linux SLL2
  "ipv6.pcap                      dup snaplen:96 snaplen:128 split"            # IPv6
  "idle-close-burst.pcap          late dup split"                              # data captured after the FIN
)

out=$(mktemp "${TMPDIR:-/tmp}/wsdiag-variants-out.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

{
  echo "# plan"
  for line in "${PLAN[@]}"; do
    read -r sample variants <<< "$line"
    echo "$SRC/samples/$sample $variants"
  done
  echo "# sweep: every sample"
  for f in "$SRC"/samples/*.pcap "$SRC"/samples/*.pcapng; do
    [ -f "$f" ] && echo "$f dup? split? swap? drop? late?"
  done
} | python3 "$TOOL" run "$BIN" "${KEEP[@]}" | tee "$out"

pass=$(grep -c '^ok ' "$out")
fail=$(grep -c '^FAIL ' "$out")
na=$(grep -c '^n/a ' "$out")
echo "($na variants not applicable to their sample: n/a)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
