#!/bin/sh
# The .deb installed as a user installs it, into a clean Debian 12 root:
# `apt install ./dray_<version>_amd64.deb` (so its Depends resolve from the
# Debian mirror), then dray version, dray --help, man -w dray, the bash
# completion, dray plan on the bundled examples; then `apt purge dray` must
# leave the root's files exactly as they were before the install.
#
# A cold run debootstraps a minimal bookworm root from the mirror (33 s here;
# minutes on a slow link), a warm one takes about 10 s. In ctest as
# package.deb_install when debootstrap is installed (-DDRAY_DEB_INSTALL_TEST=OFF
# leaves it out); as root:
#   ctest --test-dir build -R package.deb_install --output-on-failure
# or directly:  tests/package/test_deb_install.sh build
# The pristine root is cached as a tarball (DRAY_DEBOOTSTRAP_CACHE, default
# ~/.cache/dray-debootstrap); each run unpacks a fresh copy.
# Environment: DRAY_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
mirror=${DRAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${DRAY_DEBOOTSTRAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dray-debootstrap}
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (chroot)"; exit 77; }
command -v debootstrap >/dev/null 2>&1 ||
  { echo "debootstrap not found: apt-get install debootstrap"; exit 77; }

work=$(mktemp -d /tmp/dray-deb-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

# 1. The package, from this build tree.
(cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
version=$("$build/dray" version | head -n1 | awk '{print $2}')
deb=$work/deb/dray_${version}_amd64.deb
[ -f "$deb" ] || fail "cpack made no $(basename "$deb")"

# 2. A clean bookworm root (cached pristine, unpacked fresh).
mkdir -p "$cache"
tarball=$cache/bookworm-minbase.tar.gz
if [ ! -s "$tarball" ]; then
  echo "debootstrap bookworm from $mirror (once; cached in $tarball)"
  debootstrap --variant=minbase bookworm "$work/pristine" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log"; fail "debootstrap"; }
  tar -C "$work/pristine" -czf "$tarball.new" . && mv "$tarball.new" "$tarball"
  rm -rf "$work/pristine"
fi
mkdir "$root"
tar -C "$root" -xzf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
                   LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get update"; }
# man-db for `man -w` (a user's tool, not a dependency of dray).
in_root apt-get install -y -qq --no-install-recommends man-db >>"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; fail "installing man-db"; }

# What the root holds, but for apt's and dpkg's own records and caches.
snapshot() {
  (cd "$root" && find . -xdev \( -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/dpkg \
      -o -path ./var/log -o -path ./tmp -o -path ./root -o -path ./proc -o -path ./run \) -prune \
      -o -print | sort)
}
snapshot > "$work/before"

# 3. apt install ./dray_....deb: Depends come from the mirror.
cp "$deb" "$root/tmp/"
in_root apt-get install -y -q --no-install-recommends "./tmp/$(basename "$deb")" \
  -o Dir::Cache::archives=/var/cache/apt/archives >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "apt install ./$(basename "$deb")"; }
for lib in libapr1 libaprutil1 libcurl4 libjansson4 libyaml-0-2; do
  in_root dpkg -s $lib >/dev/null 2>&1 || fail "$lib was not installed with dray"
done

# 4. As a user would use it.
in_root dray version | head -n1 | grep -q "^dray $version" || fail "dray version"
in_root dray --help | grep -q "dray COMMAND" || fail "dray --help"
[ "$(in_root man -w dray)" = /usr/share/man/man1/dray.1.gz ] || fail "man -w dray: $(in_root man -w dray 2>&1)"
in_root man dray 2>/dev/null | grep -q "bounded pool of pushers" || fail "man dray does not render"
in_root bash -c '. /usr/share/bash-completion/completions/dray && complete -p dray' |
  grep -q _dray || fail "bash completion"
cp -r "$src/examples" "$root/tmp/examples"
in_root sh -c 'cd /tmp/examples && dray plan' >"$work/plan.log" 2>&1 || { cat "$work/plan.log"; fail "dray plan"; }
grep -q "images; build order: base" "$work/plan.log" || { cat "$work/plan.log"; fail "dray plan output"; }
rm -rf "$root/tmp/examples" "$root/tmp/$(basename "$deb")"

# 5. apt purge: nothing left behind.
in_root apt-get purge -y -q dray >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt purge dray"; }
in_root dpkg -s dray >/dev/null 2>&1 && fail "dray still installed"
# Its dependencies may stay (apt does not remove them unasked): only their
# files differ; what dray brought must be gone.
snapshot > "$work/after"
left=$(comm -13 "$work/before" "$work/after" | grep -i dray || true)
[ -z "$left" ] || fail "left behind: $left"
for f in /usr/bin/dray /usr/share/man/man1/dray.1.gz /usr/share/doc/dray \
         /usr/share/bash-completion/completions/dray; do
  [ ! -e "$root$f" ] || fail "$f left behind"
done
in_root apt-get autoremove -y -q --purge >/dev/null 2>&1 || true
snapshot > "$work/after-autoremove"
diff "$work/before" "$work/after-autoremove" >"$work/diff" ||
  { head -n 40 "$work/diff"; fail "the root differs after purge and autoremove"; }
echo "deb install ok: $(basename "$deb") installed, used and purged in a clean bookworm root"
