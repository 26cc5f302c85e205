#!/bin/sh
# The same child processes as overhead.sh, started by xargs -P instead of
# dray: the difference is what dray itself costs. Usage: baseline.sh [N]
set -eu
N=${1:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
seq 1 "$N" > "$W/list"
/usr/bin/time -f "baseline: wall %e s, user %U s, sys %S s" sh -c "
  xargs -P 8 -I{} '$HERE/fake-engine' build --iidfile '$W/iid{}' . < '$W/list' >/dev/null &&
  xargs -P 3 -I{} '$HERE/fake-engine' push 127.0.0.1:1/bench/img{}:latest < '$W/list' >/dev/null"
