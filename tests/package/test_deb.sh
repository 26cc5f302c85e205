#!/bin/sh
# The .deb, fast (no install): cpack builds it from this build tree; it
# must be named dray_<version>_amd64.deb with dray's own version, declare its
# library dependencies and Recommends, hold /usr/bin/dray, the man page, the
# bash/zsh/fish completions, the copyright and changelog, run from where it
# unpacks, and pass lintian without errors or warnings (when lintian is
# installed; packaging/README.md lists the info tags left and why).
# Usage: test_deb.sh BUILD_DIR
set -eu
build=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
version=$("$build/dray" version | head -n1 | awk '{print $2}')
deb=$out/dray_${version}_amd64.deb
[ -f "$deb" ] || fail "no $(basename "$deb") in: $(ls "$out")"
info=$(dpkg-deb --info "$deb")
echo "$info" | grep -q "^ Package: dray$" || fail "no Package field"
echo "$info" | grep -q "^ Version: $version$" || fail "Version is not $version"
for lib in libapr1 libaprutil1 libcurl4 libjansson4 libyaml-0-2 libc6; do
  echo "$info" | grep -q "^ Depends:.*$lib" || fail "Depends lacks $lib: $info"
done
echo "$info" | grep -q "^ Recommends: docker.io | docker-ce-cli | podman$" || fail "Recommends"
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for f in ./usr/bin/dray ./usr/share/man/man1/dray.1.gz \
         ./usr/share/bash-completion/completions/dray ./usr/share/zsh/vendor-completions/_dray \
         ./usr/share/fish/vendor_completions.d/dray.fish ./usr/share/doc/dray/copyright \
         ./usr/share/doc/dray/changelog.gz; do
  echo "$contents" | grep -qx "$f" || fail "the package has no $f"
done
dpkg-deb -x "$deb" "$out/root"
"$out/root/usr/bin/dray" version | head -n1 | grep -q "^dray $version" || fail "installed dray does not run"
"$out/root/usr/bin/dray" --help | grep -q "^dray $version" || fail "--help does not say $version"
zcat "$out/root/usr/share/man/man1/dray.1.gz" | grep -q "^\.TH DRAY 1 .*\"dray $version\"" ||
  fail "the man page does not say $version"
zcat "$out/root/usr/share/doc/dray/changelog.gz" | head -n1 | grep -q "^dray ($version)" ||
  fail "the changelog does not start with $version"
grep -q "^License: " "$out/root/usr/share/doc/dray/copyright" || fail "copyright has no License"
if command -v lintian >/dev/null 2>&1; then
  l=$(lintian --pedantic "$deb" 2>/dev/null || true)
  echo "$l" | grep -E '^[EW]: ' && fail "lintian reports errors or warnings"
  echo "lintian: no errors or warnings"
fi
echo "deb ok: $(basename "$deb")"
