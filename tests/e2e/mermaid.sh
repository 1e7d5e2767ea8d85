#!/usr/bin/env bash
# Markdown sequence diagrams (issue #13 §2), checked by Mermaid's own parser: npm mermaid and
# @mermaid-js/mermaid-cli (tests/tools/mermaid, installed from its package-lock.json by
# scripts/install-deps) in Debian's chromium. Every diagram of the Markdown report of every sample,
# redacted and --no-redact, must parse (mermaid.parse, tests/tools/mermaid/parse.mjs, one browser for
# all); a deliberately broken diagram must be refused (so this test can fail); every report stays
# under 65,536 bytes. mermaid-cli renders one diagram as a screenshot in the test artefacts:
# BUILD/tests/artifacts/mermaid/ (the ctest working directory).
#
# usage: mermaid.sh WSDIAG_BIN SOURCE_DIR    (registered by tests/CMakeLists.txt)
# Exit 77 (skipped) when mermaid-cli or chromium is not installed.
set -u
BIN=${1:?usage: mermaid.sh WSDIAG_BIN SOURCE_DIR}
SRC=${2:?usage: mermaid.sh WSDIAG_BIN SOURCE_DIR}
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
MMDC="$SRC/tests/tools/mermaid/node_modules/.bin/mmdc"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ ! -x "$MMDC" ] || [ -z "$CHROMIUM" ]; then
  echo "skip: mermaid-cli or chromium missing (scripts/install-deps installs both)"
  exit 77
fi
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsdiag-mermaid.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
ART="$PWD/artifacts/mermaid"
mkdir -p "$ART"
# Chromium runs as root here: no sandbox; nothing is downloaded (PUPPETEER_SKIP_DOWNLOAD at install).
cat >"$WORK/puppeteer.json" <<EOF
{"executablePath": "$CHROMIUM", "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}
EOF
mmdc() { "$MMDC" -q -p "$WORK/puppeteer.json" "$@"; }

PARSE=(node "$SRC/tests/tools/mermaid/parse.mjs" "$CHROMIUM")

# 1. The checker refuses a broken diagram (so this test can fail).
printf '# x\n\n```mermaid\nsequenceDiagram\n    C->>S hello without a colon\n```\n' >"$WORK/broken.md"
if "${PARSE[@]}" "$WORK/broken.md" >"$WORK/broken.log" 2>&1; then
  bad "Mermaid's parser accepted a broken diagram: this test could not fail"
else
  ok "Mermaid's parser refuses a broken diagram"
fi

# 2. Every sample's Markdown report (and, with --no-redact, the raw wire strings: paths, JWT
# subprotocols, invalid UTF-8 close reasons): every diagram parses; every report stays under the limit.
blocks=0 reports=0 big=0
mds=()
for cap in "$SRC"/samples/*.pcap "$SRC"/samples/*.pcapng; do
  [ -e "$cap" ] || continue
  name=$(basename "$cap")
  for mode in redacted raw; do
    args=(--no-progress --format markdown)
    [ "$mode" = raw ] && args+=(--no-redact)
    "$BIN" "${args[@]}" "$cap" >"$WORK/$name.$mode.md" 2>/dev/null
    size=$(wc -c <"$WORK/$name.$mode.md")
    if [ "$size" -ge 65536 ]; then
      bad "$name ($mode): Markdown report is $size bytes (limit 65536)"
      big=$((big + 1))
    fi
    n=$(grep -c '^```mermaid$' "$WORK/$name.$mode.md")
    if [ "$n" -gt 0 ]; then
      blocks=$((blocks + n))
      mds+=("$WORK/$name.$mode.md")
    fi
    reports=$((reports + 1))
  done
done
[ "$big" -eq 0 ] && ok "$reports Markdown reports are under 65536 bytes"
if [ "$blocks" -lt 100 ]; then
  bad "only $blocks diagrams in $reports reports: the samples should give many"
fi
if "${PARSE[@]}" "${mds[@]}" >"$WORK/parse.log" 2>&1; then
  ok "$(tail -n 1 "$WORK/parse.log") ($reports reports)"
else
  bad "a diagram does not parse:"
  head -n 20 "$WORK/parse.log"
  cp "$WORK/parse.log" "$ART/parse-failures.log"
fi
if ! grep -q "^$blocks of $blocks diagrams parse" "$WORK/parse.log"; then
  bad "the parser did not see the $blocks diagrams of the reports"
fi

# 4. A screenshot for people: one problem connection's diagram as PNG.
shot="$SRC/samples/nginx-ping-too-slow-client-hop.pcap"
if [ -e "$shot" ]; then
  "$BIN" --no-progress --format markdown "$shot" >"$WORK/shot.md" 2>/dev/null
  awk '/^```mermaid$/{f=1; next} /^```$/{if (f) exit} f' "$WORK/shot.md" >"$ART/nginx-ping-too-slow.mmd"
  if mmdc -i "$ART/nginx-ping-too-slow.mmd" -o "$ART/nginx-ping-too-slow.png" -s 2 >"$WORK/shot.log" 2>&1 &&
     [ -s "$ART/nginx-ping-too-slow.png" ]; then
    ok "screenshot: $ART/nginx-ping-too-slow.png"
  else
    bad "could not render the screenshot"
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
