#!/bin/sh
# test_msi.sh BUILD_DIR — the MSI under wine: build it (win32/build-msi.sh),
# install it silently into a fresh wine prefix, run dray.exe from the install
# folder and by name through the system PATH the MSI extended (cmd /c, from
# a folder without dray.exe), then uninstall and check both are gone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src_root=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: test_msi.sh BUILD_DIR}" && pwd)
prefix=$build_dir/wineprefix-msi
run() { "$src_root/win32/wine-run.sh" --prefix "$prefix" "$@"; }
fail() { echo "test_msi: FAIL: $*" >&2; exit 1; }
step() { echo "test_msi: $*"; }

msi=$("$src_root/win32/build-msi.sh" "$build_dir" | tail -n1)
[ -f "$msi" ] || fail "no MSI built"
version=$(basename "$msi" | sed 's/^dray-\(.*\)-x64\.msi$/\1/')
step "built $(basename "$msi") ($(du -k "$msi" | cut -f1) KiB)"

# A prefix of its own: installing changes its registry and PATH.
rm -rf "$prefix"
work=$(mktemp -d)
# The prefix's (persistent) wineserver saves the registry as it stops: stop
# it and wait, then remove the prefix.
trap 'run --stop; rm -rf "$work" "$prefix" "$prefix.lock"' EXIT
run --init
cp "$msi" "$work/dray.msi"
cd "$work"    # no dray.exe here: cmd must find it through PATH
winmsi='Z:'$(echo "$work/dray.msi" | tr / '\\')
installed="$prefix/drive_c/Program Files/dray/dray.exe"
env_key='HKLM\System\CurrentControlSet\Control\Session Manager\Environment'

step "install"
run msiexec /i "$winmsi" /qn || fail "msiexec /i exited with $?"
[ -f "$installed" ] || fail "dray.exe not in C:\\Program Files\\dray"
run reg query "$env_key" /v PATH | tr -d '\r' | grep -qi 'Program Files\\dray' ||
  fail "the system PATH does not name the install folder"

step "run from the install folder"
out=$(run 'C:\Program Files\dray\dray.exe' version | tr -d '\r') || fail "dray.exe version failed"
echo "$out" | grep -q "$version" || fail "unexpected version output: $out"

step "run by name through PATH"
out=$(run cmd /c dray version | tr -d '\r') || fail "cmd /c dray version failed: $out"
echo "$out" | grep -q "$version" || fail "unexpected output through PATH: $out"

step "uninstall"
run msiexec /x "$winmsi" /qn || fail "msiexec /x exited with $?"
[ ! -e "$installed" ] || fail "dray.exe still installed"
if run reg query "$env_key" /v PATH | tr -d '\r' | grep -qi 'Program Files\\dray'; then
  fail "the install folder is still on the system PATH"
fi
# (wine's cmd exits 0 even when it finds no such command: look at the output)
out=$(run cmd /c dray version 2>&1 | tr -d '\r') || true
if echo "$out" | grep -q "$version"; then
  fail "dray still runs by name after uninstall: $out"
fi
step "ok"
