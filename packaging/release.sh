#!/usr/bin/env bash
# release.sh [DIST_DIR] — everything a release ships, from this checkout:
#
#   1. the Linux build (Release, warnings as errors) and its .deb (cpack);
#   2. the Windows cross build (win32/cross-build.sh) and its .msi
#      (win32/build-msi.sh);
#   3. DIST_DIR (default dist/) with dray_<version>_amd64.deb,
#      dray-<version>-x64.msi and SHA256SUMS; prints what it made.
#
# The version is CMake's (project() in CMakeLists.txt): the same in the
# binaries, the .deb, the .msi, --help and the man page. Build folders:
# build-release and build-release-mingw (reused when present).
#
# Environment: DRAY_RELEASE_WINDOWS=0 skips the Windows half (then no .msi);
# JOBS as for cross-build.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
dist=${1:-$src/dist}
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
jobs=${JOBS:-2}

log() { printf 'release: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

version=$(sed -n 's/^project(dray VERSION \([0-9][0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || die "no version in CMakeLists.txt's project()"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1 &&
   [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
  log "warning: the checkout has uncommitted changes ($(git -C "$src" describe --tags --always --dirty))"
fi
log "dray $version -> $dist"

# ---- 1. Linux --------------------------------------------------------------
linux=$src/build-release
cmake -S "$src" -B "$linux" -DCMAKE_BUILD_TYPE=Release -DDRAY_WERROR=ON \
      -DDRAY_BUILD_TESTS=OFF >/dev/null
cmake --build "$linux" -j"$jobs" >/dev/null
"$linux/dray" version | head -n1 | grep -q "^dray $version\b" ||
  die "the built dray does not say version $version"
rm -f "$linux"/dray_*.deb
(cd "$linux" && cpack -G DEB >/dev/null)
deb="$linux/dray_${version}_amd64.deb"
[ -f "$deb" ] || die "cpack made no $deb"
cp -f "$deb" "$dist/"

# ---- 2. Windows ------------------------------------------------------------
made=("$(basename "$deb")")
if [ "${DRAY_RELEASE_WINDOWS:-1}" != 0 ]; then
  win=$src/build-release-mingw
  JOBS=$jobs "$src/win32/cross-build.sh" "$win" >&2
  msi=$("$src/win32/build-msi.sh" "$win")
  [ "$(basename "$msi")" = "dray-$version-x64.msi" ] || die "unexpected MSI name $msi"
  cp -f "$msi" "$dist/"
  made+=("$(basename "$msi")")
else
  log "DRAY_RELEASE_WINDOWS=0: no .msi"
fi

# ---- 3. checksums ----------------------------------------------------------
(cd "$dist" && sha256sum "${made[@]}" > SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
made+=(SHA256SUMS)
for f in "${made[@]}"; do
  printf '%s\t%s\n' "$(du -h "$dist/$f" | cut -f1)" "$dist/$f"
done
