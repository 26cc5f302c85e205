#!/bin/sh
# test-windows.sh [BUILD_DIR] — the Windows half of the test suite, on Debian:
# installs the cross toolchain and wine when missing (as root; CI), builds
# the Windows dependencies (cached, see win32/cross-build.sh), dray.exe and
# its tests into BUILD_DIR (default build-mingw), then runs under wine: the
# unit tests, dray.exe with a fake engine (pools, retries, Ctrl+C, Job
# Object) and the MSI. Exits non-zero when anything fails.
# Cold (nothing installed, empty cache): ~10 minutes on 2 cores; warm: ~2.
#
# Environment: DRAY_MINGW_DEPS (dependency cache), JOBS, DRAY_WERROR
# (see win32/cross-build.sh); DRAY_KEEP_WINEPREFIX=1 reuses the wine prefix
# of an earlier run instead of making a fresh one.
set -eu
cd "$(dirname "$0")/.."
build_dir=${1:-build-mingw}
t0=$(date +%s)
log() { printf '=== test-windows: %s\n' "$*"; }

# ---- toolchain ----------------------------------------------------------------
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
need x86_64-w64-mingw32-windres binutils-mingw-w64-x86-64
need wine wine
# wine64 installs no command of that name; its loader is what runs .exe files.
[ -x /usr/lib/wine/wine64 ] || missing="$missing wine64"
need wixl wixl
need msibuild msitools
need msiinfo msitools
need cmake cmake
need ctest cmake
need cc gcc
need make make
need patch patch
need dpkg-source dpkg-dev
need xz xz-utils
need python3 python3
need flock util-linux
if [ -n "$missing" ]; then
  pkgs=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
  if [ "$(id -u)" != 0 ]; then
    echo "test-windows: missing tools; as root: apt-get install -y --no-install-recommends $pkgs" >&2
    exit 1
  fi
  log "installing $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

# ---- build --------------------------------------------------------------------
log "cross build into $build_dir"
./win32/cross-build.sh "$build_dir"

# ---- test ---------------------------------------------------------------------
# A fresh wine prefix per run (~10 s to make): nothing left from earlier runs.
prefix=$build_dir/wineprefix
if [ "${DRAY_KEEP_WINEPREFIX:-0}" != 1 ]; then
  rm -rf "$prefix" "$prefix.lock"
fi
log "ctest under wine"
status=0
ctest_log=$build_dir/wine-ctest.log
ctest --test-dir "$build_dir" --output-on-failure --timeout 600 \
  --parallel "${JOBS:-$(nproc)}" --output-log "$ctest_log" || status=$?
# Wine now and then fails to start a process: NtCreateUserProcess gives
# STATUS_INTERNAL_ERROR when the new wine process dies in its own start-up
# (seen once here, in a whole run's test_platform; not in 70 runs of it
# after; a fault of wine's, not of Windows), and CreateProcessW says
# ERROR_INTERNAL_ERROR, which dray reports as "cannot run PROGRAM: Internal
# error." Only then are the failed tests run once more; any other failure
# stands.
if [ $status -ne 0 ] && grep -q "cannot run .*: Internal error" "$ctest_log"; then
  log "wine failed to start a process (ERROR_INTERNAL_ERROR): the failed tests once more"
  status=0
  ctest --test-dir "$build_dir" --output-on-failure --timeout 600 --rerun-failed || status=$?
fi
# Let the prefix's wineserver save and exit before anyone removes the tree.
WINEPREFIX=$(cd "$build_dir" && pwd)/wineprefix wineserver -w 2>/dev/null || true

if [ $status -eq 0 ]; then
  log "passed in $(( $(date +%s) - t0 )) s"
else
  log "FAILED (ctest exit $status) after $(( $(date +%s) - t0 )) s"
fi
exit $status
