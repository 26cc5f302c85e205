#!/usr/bin/env bash
# The bash completion function on partial command lines, as bash calls it
# (COMP_WORDS / COMP_CWORD set, _dray run, COMPREPLY read), with the dray of
# this build first on PATH, in a folder holding a compose file.
# Usage: test_bash_completion.sh DRAY_BINARY SOURCE_DIR
set -u
dray_bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/proj/api" "$work/proj/worker" "$work/proj/docs"
ln -s "$dray_bin" "$work/bin/dray"
export PATH=$work/bin:$PATH
printf 'FROM scratch\n' > "$work/proj/api/Dockerfile"
printf 'FROM scratch\n' > "$work/proj/worker/Dockerfile"
printf 'services:\n  api:\n    build: ./api\n  worker:\n    build: ./worker\n' \
  > "$work/proj/compose.yaml"
touch "$work/proj/other.yaml"
cd "$work/proj" || exit 1
# shellcheck source=/dev/null
. "$src/packaging/completions/dray.bash"
complete -p dray | grep -q -- '-F _dray' || { echo "not registered for dray"; exit 1; }

failed=0
# check "WORDS" "expected candidates, space-separated, sorted" — the last word
# of WORDS is the one being completed ('' for an empty one).
check() {
  local line=$1 want=$2 got
  eval "COMP_WORDS=($line)"
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _dray
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" != "$want" ]; then
    echo "FAIL: [$line]: want [$want], got [$got]"; failed=1
  else
    echo "ok: [$line] -> [$got]"
  fi
}
check "dray ''" "--help --version build help plan push report run version"
check "dray pu" "push"
check "dray run --prog" "--progress"
check "dray run --pro" "--profile --progress --project-name"
check "dray run --progress ''" "auto live plain quiet"
check "dray run --progress p" "plain"
check "dray run --push-driver e" "engine"
check "dray run --progress = q" "quiet"
check "dray push --no-c" ""                      # push takes no build option
check "dray build --no-c" "--no-cache"
check "dray run --only ''" "api worker"          # service names from ./compose.yaml
check "dray run --skip w" "worker"
check "dray run -f o" "other.yaml"
check "dray run a" "api"                         # PATH: folders
check "dray help p" "plan push"
check "dray report --t" "--timeline"
check "dray report --timeline x.svg o" "other.yaml"   # REPORT.json: files
exit $failed
