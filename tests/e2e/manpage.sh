#!/usr/bin/env bash
# The man page wsdiag(1): scdoc renders doc/wsdiag.1.scd, `man -l` formats it with no warning, and
# it documents every option `wsdiag --help` lists (and no option wsdiag does not have).
# usage: manpage.sh WSDIAG SOURCE_DIR    (exits 77 when scdoc or man is missing)
set -u
WSDIAG=${1:?}; SRC=${2:?}
command -v scdoc >/dev/null || { echo "SKIP: scdoc not installed"; exit 77; }
command -v man >/dev/null || { echo "SKIP: man not installed"; exit 77; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: manpage.sh: $*"; exit 1; }

scdoc <"$SRC/doc/wsdiag.1.scd" >"$TMP/wsdiag.1" || fail "scdoc rejects doc/wsdiag.1.scd"
MANWIDTH=100 LC_ALL=C.UTF-8 man --warnings -l "$TMP/wsdiag.1" >"$TMP/rendered" 2>"$TMP/warn" || fail "man -l failed"
[ -s "$TMP/warn" ] && { cat "$TMP/warn"; fail "man -l printed warnings"; }
for sect in NAME SYNOPSIS DESCRIPTION OPTIONS "OUTPUT FORMATS" "EXIT STATUS" EXAMPLES; do
  grep -q "^$sect" "$TMP/rendered" || fail "no $sect section"
done

# Long options: those --help lists vs those the page describes as items (an option line of its own).
"$WSDIAG" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$TMP/help"
grep -o -- '^       --[a-z][a-z-]*\|^       -[A-Za-z], --[a-z][a-z-]*' "$TMP/rendered" | grep -o -- '--[a-z-]*' | sort -u >"$TMP/items"
missing=$(comm -23 "$TMP/help" "$TMP/items")
[ -z "$missing" ] || fail "options in --help that the man page does not describe: $missing"
extra=$(comm -13 "$TMP/help" "$TMP/items")
[ -z "$extra" ] || fail "options in the man page that --help does not list: $extra"
# Short options too.
"$WSDIAG" --help | grep -o -- '^  -[A-Za-z],' | tr -d ' ,' | sort -u >"$TMP/hshort"
for o in $(cat "$TMP/hshort"); do grep -q -- "^       $o, " "$TMP/rendered" || fail "short option $o not in the man page"; done
echo "PASS: manpage.sh ($(wc -l <"$TMP/help") long and $(wc -l <"$TMP/hshort") short options documented)"
