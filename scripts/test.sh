#!/bin/sh
# The whole test suite: install dependencies, then build and test dray twice
# (warnings as errors; then AddressSanitizer + UndefinedBehaviorSanitizer),
# each time with the unit tests and the integration tests against a real
# dockerd and a real docker-registry that the tests start and stop.
# Needs root (dockerd). Build trees: build-test/ and build-asan/.
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

if [ $status -eq 0 ]; then echo "=== all suites passed"; else echo "=== some tests FAILED"; fi
exit $status
