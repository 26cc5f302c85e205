#!/bin/sh
# The whole test suite: install dependencies, then build and test dray twice
# (warnings as errors; then AddressSanitizer + UndefinedBehaviorSanitizer),
# each time with the unit tests and the integration tests against a real
# dockerd and a real docker-registry that the tests start and stop; then the
# Windows half (scripts/test-windows.sh: mingw-w64 cross build, tests under
# wine, the MSI). Needs root (dockerd, apt-get).
# Build trees: build-test/, build-asan/, build-fuzz/ (clang), build-mingw/.
# DRAY_SKIP_WINDOWS=1 leaves the Windows half out (a quicker local run).
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
JOBS=$(nproc)
status=0

run_suite() {
  dir=$1; shift
  echo "=== $dir: configure ($*)"
  cmake -S . -B "$dir" -DDRAY_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" --parallel "$JOBS"
  echo "=== $dir: ctest"
  ctest --test-dir "$dir" --output-on-failure --timeout 900 || status=1
}

run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DDRAY_SANITIZE=ON

# The fuzz harnesses, each for about 20 s (clang builds them; skipped
# without clang). Longer: scripts/fuzz.sh 600 [NAME...].
if command -v clang >/dev/null 2>&1; then
  echo "=== fuzz: each harness for 20 s"
  ./scripts/fuzz.sh 20 || status=1
else
  echo "=== fuzz: skipped (no clang)"
fi

if [ "${DRAY_SKIP_WINDOWS:-0}" != 1 ]; then
  echo "=== windows: cross build and tests under wine"
  ./scripts/test-windows.sh build-mingw || status=1
fi

if [ $status -eq 0 ]; then echo "=== all suites passed"; else echo "=== some tests FAILED"; fi
exit $status
