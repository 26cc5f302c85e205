#!/bin/sh
# dray's own cost per image: plan, schedule, spawn, log, report for N images
# whose build and push are instantaneous (bench/fake-engine). Prints wall
# time, CPU time and peak memory (GNU time). Usage: overhead.sh [N] [DRAY]
set -eu
N=${1:-2000}
DRAY=${2:-$(dirname "$0")/../build/dray}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
i=0
while [ $i -lt "$N" ]; do
  d="$W/imgs/group$((i / 100))/img$i"
  mkdir -p "$d"
  printf 'FROM scratch\nCOPY . /\n' > "$d/Dockerfile"
  i=$((i + 1))
done
/usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KiB" \
  "$DRAY" run "$W/imgs" --engine-cmd "$HERE/fake-engine" --push-driver cli --no-verify \
    --registry 127.0.0.1:1/bench -j 8 -p 3 --progress quiet --log-dir "$W/logs" \
    --report "$W/report.json" > "$W/summary.txt"
python3 - "$W/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"images {r['counts']['total']}, pushed {r['counts']['done']}, "
      f"peak builds {r['max_running_builds']}, peak pushes {r['max_running_pushes']}, "
      f"run {r['seconds']:.1f} s")
PY
