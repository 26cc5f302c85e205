#!/bin/sh
# Install dray's dependencies, build dray, and run its main job on examples/:
# build five small images in parallel and push each to a local registry as
# soon as it is built. Uses the engine at DOCKER_HOST (or the default socket)
# when one answers; otherwise starts a private dockerd and stops it after.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)

./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --parallel "$(nproc)" --target dray

STATE="$TOP/.dray/demo"
RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/dray-demo.XXXXXX")   # short: unix socket paths
mkdir -p "$STATE"
DOCKER=/usr/bin/docker    # Debian's client, with BuildKit built in
[ -x "$DOCKER" ] || DOCKER=docker
REG_PID=""
DOCKERD_PID=""

cleanup() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    i=0; while kill -0 "$DOCKERD_PID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i+1)); done
  fi
  rm -rf "$RUNDIR"
}
trap cleanup EXIT INT TERM

if ! "$DOCKER" version >/dev/null 2>&1; then
  echo "demo: no engine answers at ${DOCKER_HOST:-the default socket}; starting a private dockerd"
  dockerd --iptables=false --ip6tables=false --bridge=none \
    --data-root "$STATE/docker-data" --exec-root "$RUNDIR/exec" \
    --pidfile "$RUNDIR/dockerd.pid" -H "unix://$RUNDIR/docker.sock" \
    >"$STATE/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  export DOCKER_HOST="unix://$RUNDIR/docker.sock"
  i=0
  until "$DOCKER" version >/dev/null 2>&1; do
    i=$((i+1)); [ $i -lt 300 ] || { echo "demo: dockerd did not start, see $STATE/dockerd.log" >&2; exit 1; }
    sleep 0.2
  done
fi

# A registry of our own on a free loopback port.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$STATE/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry-data
http:
  addr: 127.0.0.1:$PORT
YML
docker-registry serve "$STATE/registry.yml" >"$STATE/registry.log" 2>&1 </dev/null &
REG_PID=$!
i=0
until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/v2/')" 2>/dev/null; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "demo: registry did not start" >&2; exit 1; }
  sleep 0.2
done

cp /bin/busybox examples/base/busybox
REGISTRY="127.0.0.1:$PORT/examples"
echo "demo: dray run examples/ -> $REGISTRY"
set +e
DOCKER_BUILDKIT=1 ./build/dray run --engine-cmd "$DOCKER" --registry "$REGISTRY" \
  --build-arg "REGISTRY=$REGISTRY" --network none -j 4 -p 2 \
  --report "$STATE/report.json" examples/
code=$?
set -e
echo
echo "demo: the registry now serves:"
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
cat = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/_catalog"))
for repo in cat["repositories"]:
    tags = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/{repo}/tags/list"))["tags"]
    print(f"  {repo}: {', '.join(tags)}")
PY
echo "demo: report in $STATE/report.json, logs in .dray/logs/"
exit $code
