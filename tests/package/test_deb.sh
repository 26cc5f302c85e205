#!/bin/sh
# The .deb: cpack builds it from this build tree; it must declare its
# library dependencies, install dray to /usr/bin and run from there.
# Usage: test_deb.sh BUILD_DIR
set -eu
build=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
deb=$(ls "$out"/dray_*.deb)
info=$(dpkg-deb --info "$deb")
echo "$info" | grep -q "Package: dray" || { echo "no Package field"; exit 1; }
for lib in libapr1 libaprutil1 libcurl4 libjansson4 libyaml-0-2; do
  echo "$info" | grep -q "Depends:.*$lib" || { echo "Depends lacks $lib"; echo "$info"; exit 1; }
done
dpkg-deb --contents "$deb" | grep -q "./usr/bin/dray$" || { echo "no /usr/bin/dray"; exit 1; }
dpkg-deb -x "$deb" "$out/root"
"$out/root/usr/bin/dray" version | grep -q "^dray " || { echo "installed dray does not run"; exit 1; }
echo "deb ok: $(basename "$deb")"
