#!/bin/sh
# The pipeline against a real dockerd and docker-registry (started by
# tests/integration/services.py in a private state folder, stopped after):
# N images, each with a RUN step of S seconds and its own 20 MB layer, built and
# pushed three ways: one after another (build, push, next), in two phases
# (all builds -j B, then all pushes -p P, with xargs), and by dray (-j B -p P).
# Usage: real.sh [N] [B] [P] [S] [DRAY]   (as root)
set -eu
N=${1:-24}; B=${2:-4}; P=${3:-2}; S=${4:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
DRAY=${5:-$HERE/../build/dray}
DOCKER=/usr/bin/docker
export DRAY_TEST_STATE
DRAY_TEST_STATE=$(mktemp -d "${TMPDIR:-/tmp}/dray-bench.XXXXXX")
W="$DRAY_TEST_STATE/work"
cleanup() { python3 "$HERE/../tests/integration/services.py" stop; rm -rf "$DRAY_TEST_STATE"; }
trap cleanup EXIT
python3 "$HERE/../tests/integration/services.py" start >/dev/null
eval "$(python3 -c "
import json; s=json.load(open('$DRAY_TEST_STATE/services.json'))
print(f\"export DOCKER_HOST={s['docker_host']}; REG={s['registry']}\")")"
export DOCKER_BUILDKIT=1

make_tree() {  # $1 = folder; fresh content so that nothing is cached
  i=0
  while [ $i -lt "$N" ]; do
    d="$1/img$i"; mkdir -p "$d"
    cp /bin/busybox "$d/"
    head -c 20000000 /dev/urandom > "$d/blob"
    printf 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY blob /blob\nRUN ["/bin/busybox", "sleep", "%s"]\n' "$S" > "$d/Dockerfile"
    i=$((i + 1))
  done
}
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

make_tree "$W/seq"
t0=$(now)
for d in "$W"/seq/img*; do
  ref="$REG/seq/$(basename "$d"):latest"
  $DOCKER build -q --network none -t "$ref" "$d" >/dev/null
  $DOCKER push "$ref" >/dev/null
done
t1=$(now); echo "one after another:  $(secs "$t0" "$t1") s"

make_tree "$W/phases"
t0=$(now)
ls "$W/phases" | xargs -P "$B" -I{} $DOCKER build -q --network none -t "$REG/phases/{}:latest" "$W/phases/{}" >/dev/null
ls "$W/phases" | xargs -P "$P" -I{} $DOCKER push "$REG/phases/{}:latest" >/dev/null
t1=$(now); echo "two phases (-j $B, then -p $P): $(secs "$t0" "$t1") s"

make_tree "$W/dray"
t0=$(now)
"$DRAY" run "$W/dray" --engine-cmd $DOCKER --registry "$REG/dray" --network none \
  -j "$B" -p "$P" --progress quiet --log-dir "$W/logs" --report "$W/report.json" >/dev/null
t1=$(now); echo "dray (-j $B -p $P):   $(secs "$t0" "$t1") s"
python3 -c "
import json; r=json.load(open('$W/report.json'))
print(f\"  dray: {r['counts']['done']}/{r['counts']['total']} pushed and verified, \"
      f\"peak {r['max_running_builds']} builds / {r['max_running_pushes']} pushes, \"
      f\"{r['bytes_pushed']/1e6:.0f} MB pushed\")"
