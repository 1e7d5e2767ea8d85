#!/usr/bin/env bash
# Differential: on every samples/tunnel-*.pcap (real WebSocket peers over a real tunnel, captured on
# the underlay by scripts/make-samples), wsdiag's frames, connections (inner 5-tuples) and tunnel
# facts equal tshark's dissection of the same capture (tests/tools/compare_tunnels.py).
set -u
BIN=${1:?usage: tunnels_vs_tshark.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: tunnels_vs_tshark.sh WSDIAG_BIN SOURCE_DIR}
if ! command -v tshark >/dev/null 2>&1; then echo "SKIP: tshark not found"; exit 77; fi
pass=0 fail=0
shopt -s nullglob
caps=("$SRC"/samples/tunnel-*.pcap)
if [ ${#caps[@]} -eq 0 ]; then echo "FAIL: no samples/tunnel-*.pcap"; echo "0 passed, 1 failed"; exit 1; fi
for cap in "${caps[@]}"; do
  echo "# ${cap#"$SRC"/}"
  if python3 "$SRC/tests/tools/compare_tunnels.py" "$BIN" "$cap" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
