#!/bin/sh
# wine-run.sh [--prefix DIR] [--init | --stop | [--until-exit] PROGRAM.exe [ARGS...]]
#
# Runs a Windows program under wine, headless and quiet, in a private wine
# prefix (default: $WINEPREFIX, else ./wineprefix) that is created with
# `wineboot -i` on first use (~10 s, ~700 MB; never shared with the user's
# own prefix). --init only creates it. ctest uses this as the
# cross-compiling emulator (with --until-exit); the exit status is the
# program's.
#
# --until-exit: the program's output goes through a file, shown as it
# comes, and this script ends when the program does. A wine process that the
# program started inherits its unix stdout and stderr; on ctest's pipe one
# that outlives the program keeps ctest waiting until the test's timeout.
# Seen with test_platform's test_kill_tree: a `ping` that the killed tree's
# cmd.exe was starting as the Job Object was ended escaped it (wine's race,
# not Windows's) and hung on, holding ctest's pipe, long after the test had
# passed. Without --until-exit the program replaces this script (exec: the
# same pid, for signals).
set -eu
prefix=${WINEPREFIX:-$PWD/wineprefix}
if [ "${1:-}" = "--prefix" ]; then
  prefix=$2
  shift 2
fi
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
export WINEPREFIX="$prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="   # no Mono/Gecko install dialogs
unset DISPLAY WAYLAND_DISPLAY                # no windows, no X server needed
if command -v wine >/dev/null 2>&1; then wine=wine; else wine=wine64; fi

if [ ! -f "$prefix/.dray-ready" ]; then
  mkdir -p "$(dirname "$prefix")"
  # Tests may start in parallel: one creates the prefix, the others wait.
  (
    flock 9
    if [ ! -f "$prefix/.dray-ready" ]; then
      wineboot -i >/dev/null 2>&1 || { echo "wine-run: wineboot -i failed" >&2; exit 1; }
      wineserver -w 2>/dev/null || true
      touch "$prefix/.dray-ready"
    fi
  ) 9>"$prefix.lock"
fi
if [ "${1:-}" = "--init" ]; then
  # One persistent wineserver, and the services wine starts with it, for all
  # the tests, started here with their output away from ctest: started by a
  # test instead, they inherit that test's stdout and ctest waits for them
  # (seen as a unit test "timing out" after it had printed all its results).
  wineserver -p </dev/null >/dev/null 2>&1 || true
  "$wine" cmd /c exit </dev/null >/dev/null 2>&1 || true
  exit 0
fi
if [ "${1:-}" = "--stop" ]; then
  wineserver -k </dev/null >/dev/null 2>&1 || true
  wineserver -w </dev/null >/dev/null 2>&1 || true
  exit 0
fi
if [ "${1:-}" = "--until-exit" ]; then
  shift
  out=$(mktemp "${TMPDIR:-/tmp}/wine-run.XXXXXX")
  "$wine" "$@" >"$out" 2>&1 </dev/null &
  pid=$!
  # tail prints what is left once PID has ended, then ends.
  tail -n +1 -s 0.1 -f --pid="$pid" "$out"
  status=0
  wait "$pid" || status=$?
  rm -f "$out"
  exit $status
fi
exec "$wine" "$@"
