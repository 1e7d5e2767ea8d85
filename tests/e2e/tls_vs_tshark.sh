#!/usr/bin/env bash
# wss:// differential (issue #12): on every samples/wss-* capture, `wsdiag --frames` with the
# capture's key log equals tshark's decode with `-o tls.keylog_file:` frame by frame (a pcapng
# with a Decryption Secrets Block needs no option in either tool); without keys wsdiag lists no
# frame and says "TLS, not decrypted"; damaged secrets give tls-decrypt-failed and no frames.
# usage: tls_vs_tshark.sh WSDIAG_BIN SOURCE_DIR   (77 = skipped: no tshark or no wss sample)
set -u
BIN=${1:?usage: tls_vs_tshark.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: tls_vs_tshark.sh WSDIAG_BIN SOURCE_DIR}
if ! command -v tshark >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: tshark or python3 not found"
  exit 77
fi
exec python3 "$SRC/tests/tools/compare_tls_frames.py" "$BIN" "$SRC/samples"
