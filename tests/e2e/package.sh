#!/usr/bin/env bash
# The Debian package: cpack builds wsdiag_*.deb from this build, `apt-get install ./wsdiag_*.deb`
# installs it (pulling its Depends), the installed /usr/bin/wsdiag is stripped, runs --version and a
# sample, the man page and completions are in place; then the package is removed (purged).
# usage: package.sh WSDIAG SOURCE_DIR
# Guarded, because it installs a package on this machine: runs only as root, only when
# WSDIAG_TEST_DEB is not 0, and never over a wsdiag package that was already installed. Exit 77 = skipped.
set -u
WSDIAG=${1:?}; SRC=${2:?}
BUILD=$(cd "$(dirname "$WSDIAG")" && pwd)
skip() { echo "SKIP: package.sh: $*"; exit 77; }
fail() { echo "FAIL: package.sh: $*"; exit 1; }
[ "${WSDIAG_TEST_DEB:-1}" != 0 ] || skip "WSDIAG_TEST_DEB=0"
[ "$(id -u)" -eq 0 ] || skip "installing a package needs root"
command -v cpack >/dev/null && command -v apt-get >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
  skip "cpack, apt-get or dpkg-dev missing"
if dpkg-query -W -f='${Status}' wsdiag 2>/dev/null | grep -q 'install ok installed'; then
  skip "a wsdiag package is already installed; not touching it"
fi
[ -f "$BUILD/CPackConfig.cmake" ] || skip "no CPackConfig.cmake next to $WSDIAG"
[ -f "$BUILD/wsdiag.1.gz" ] || skip "man page not built (scdoc missing)"

TMP=$(mktemp -d /tmp/wsdiag-deb.XXXXXX)
chmod 755 "$TMP"
installed=0
cleanup() {
  [ "$installed" = 1 ] && DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq wsdiag </dev/null >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

(cd "$TMP" && timeout 300 cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TMP") >"$TMP/cpack.log" 2>&1 ||
  { cat "$TMP/cpack.log"; fail "cpack failed"; }
deb=$(ls "$TMP"/wsdiag_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb built"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpcap0.8 libfmt9 libssl3; do
  echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done
echo "ok: $(basename "$deb") built, Depends: $depends"

cp "$deb" "$TMP/pkg.deb"
installed=1
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq "$TMP/pkg.deb" </dev/null >"$TMP/apt.log" 2>&1 ||
  { tail -5 "$TMP/apt.log"; fail "apt-get install ./wsdiag_*.deb failed"; }
[ -x /usr/bin/wsdiag ] || fail "/usr/bin/wsdiag missing after install"
file_out=$(LC_ALL=C file -L /usr/bin/wsdiag 2>/dev/null || true)
if [ -n "$file_out" ]; then echo "$file_out" | grep -q 'not stripped' && fail "installed binary is not stripped"; fi
readelf -S /usr/bin/wsdiag | grep -q '\.debug_info' && fail "installed binary carries debug info"
ver=$(/usr/bin/wsdiag --version) || fail "wsdiag --version failed"
echo "$ver" | grep -q '^wsdiag [0-9]' || fail "--version printed '$ver'"
/usr/bin/wsdiag --format jsonl "$SRC/samples/ping-timeout-1011.pcap" | grep -q '"code":1011' ||
  fail "installed wsdiag does not give the sample's verdict 1011"
[ -f /usr/share/man/man1/wsdiag.1.gz ] || fail "man page not installed"
man -w wsdiag >/dev/null 2>&1 || fail "man cannot find wsdiag(1)"
[ -f /usr/share/bash-completion/completions/wsdiag ] || fail "bash completion not installed"
[ -f /usr/share/zsh/vendor-completions/_wsdiag ] || fail "zsh completion not installed"
bash -c 'source /usr/share/bash-completion/completions/wsdiag && complete -p wsdiag' >/dev/null ||
  fail "bash completion does not load"
echo "ok: installed: $ver, $(stat -c %s /usr/bin/wsdiag) bytes stripped, sample verdict 1011, man page, completions"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq wsdiag </dev/null >/dev/null 2>&1 || fail "apt-get purge failed"
installed=0
[ -e /usr/bin/wsdiag ] && fail "/usr/bin/wsdiag still there after removal"
echo "PASS: package.sh"
