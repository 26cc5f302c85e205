#!/bin/sh
# Build the libFuzzer harnesses (fuzz/) with clang and run each for SECONDS
# (default 20), starting from its seed corpus. A crash stops that harness and
# leaves its input as BUILD/fuzz-out/NAME-crash-*: copy it to
# fuzz/regress/NAME/ (ctest runs every file there in every build), fix, commit.
#   scripts/fuzz.sh [SECONDS] [NAME...]      e.g. scripts/fuzz.sh 600 compose
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${DRAY_FUZZ_BUILD:-$src/build-fuzz}
secs=${1:-20}
[ $# -gt 0 ] && shift
names=${*:-"dockerfile compose ref subst progress registry config cli tarstream"}
command -v clang >/dev/null 2>&1 || { echo "fuzz.sh: clang not found (apt-get install clang)" >&2; exit 1; }
CC=clang cmake -S "$src" -B "$build" -DDRAY_FUZZ=ON -DDRAY_WERROR=ON -DDRAY_INTEGRATION_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
targets=""
for n in $names; do targets="$targets fuzz_$n"; done
# shellcheck disable=SC2086
cmake --build "$build" -j2 --target $targets
mkdir -p "$build/fuzz-out"
rc=0
for n in $names; do
  work="$build/fuzz-out/corpus-$n"
  mkdir -p "$work"
  echo "fuzz.sh: $n for ${secs}s"
  if ! "$build/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$build/fuzz-out/$n-" "$work" "$src/fuzz/corpus/$n" \
       >"$build/fuzz-out/$n.log" 2>&1; then
    echo "fuzz.sh: $n FAILED; see $build/fuzz-out/$n.log and $build/fuzz-out/$n-*" >&2
    tail -n 30 "$build/fuzz-out/$n.log" >&2
    rc=1
  fi
done
exit $rc
