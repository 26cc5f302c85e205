#!/bin/sh
# test_msi.sh BUILD_DIR — the MSI: its tables read with msiinfo (File,
# Component, Directory, Environment, Property, Upgrade: the exe in
# ProgramFiles64Folder\dray\bin, that folder appended to the system PATH,
# CMake's version, the fixed UpgradeCode of packaging/wix/dray.wxs, the
# license); then under wine, in a fresh prefix: install it silently, run
# dray.exe from the bin folder and by name through PATH (cmd /c, from a
# folder without dray.exe), upgrade to a newer installer of the same
# UpgradeCode (one product left, the newer one, PATH named once), uninstall
# and check everything is gone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src_root=$(cd "$here/../.." && pwd)
build_dir=$(cd "${1:?usage: test_msi.sh BUILD_DIR}" && pwd)
prefix=$build_dir/wineprefix-msi
run() { "$src_root/win32/wine-run.sh" --prefix "$prefix" "$@"; }
fail() { echo "test_msi: FAIL: $*" >&2; exit 1; }
step() { echo "test_msi: $*"; }

work=$(mktemp -d)
# The prefix's (persistent) wineserver saves the registry as it stops: stop
# it and wait (when the prefix was made), then remove the prefix.
trap 'if [ -f "$prefix/.dray-ready" ]; then run --stop; fi; rm -rf "$work" "$prefix" "$prefix.lock"' EXIT

msi=$("$src_root/win32/build-msi.sh" "$build_dir" | tail -n1)
[ -f "$msi" ] || fail "no MSI built"
version=$(sed -n 's/^#define DRAY_VERSION "\([0-9.]*\)".*/\1/p' "$build_dir/include/dray/version.h")
[ "$(basename "$msi")" = "dray-$version-x64.msi" ] || fail "MSI name $(basename "$msi") is not for $version"
step "built $(basename "$msi") ($(du -k "$msi" | cut -f1) KiB)"

# ---- the tables ---------------------------------------------------------------
table() { msiinfo export "$1" "$2" | tr -d '\r'; }
tables=$(msiinfo tables "$msi")
for t in File Component Directory Environment Property Upgrade InstallExecuteSequence; do
  echo "$tables" | grep -qx "$t" || fail "no $t table"
done
upgrade_code=$(sed -n 's/.*UpgradeCode="\([0-9A-Fa-f-]*\)".*/\1/p' "$src_root/packaging/wix/dray.wxs")
[ -n "$upgrade_code" ] || fail "no UpgradeCode in dray.wxs"
prop() { table "$msi" Property | awk -F'\t' -v k="$1" '$1 == k {print $2}'; }
[ "$(prop UpgradeCode)" = "{$upgrade_code}" ] || fail "UpgradeCode $(prop UpgradeCode) is not {$upgrade_code}"
[ "$(prop ProductVersion)" = "$version" ] || fail "ProductVersion $(prop ProductVersion) is not $version"
[ "$(prop ProductName)" = dray ] || fail "ProductName"
# dray.exe in BINDIR = ProgramFiles64Folder\dray\bin, a 64-bit component.
exe_comp=$(table "$msi" File | awk -F'\t' '$3 == "dray.exe" {print $2}')
[ -n "$exe_comp" ] || fail "no dray.exe in the File table"
table "$msi" File | awk -F'\t' '$3 == "LICENSE.rtf"' | grep -q . || fail "no LICENSE.rtf in the File table"
table "$msi" File | awk -F'\t' '$3 == "THIRD-PARTY-NOTICES.txt"' | grep -q . ||
  fail "no THIRD-PARTY-NOTICES.txt in the File table"
comp=$(table "$msi" Component | awk -F'\t' -v c="$exe_comp" '$1 == c')
[ "$(echo "$comp" | cut -f3)" = BINDIR ] || fail "dray.exe's component is not in BINDIR: $comp"
[ $(( $(echo "$comp" | cut -f4) & 256 )) = 256 ] || fail "dray.exe's component is not 64-bit: $comp"
dirs=$(table "$msi" Directory)
echo "$dirs" | grep -qx "BINDIR	INSTALLDIR	bin" || fail "BINDIR is not INSTALLDIR\\bin: $dirs"
echo "$dirs" | grep -qx "INSTALLDIR	ProgramFiles64Folder	dray" || fail "INSTALLDIR is not ProgramFiles64Folder\\dray: $dirs"
table "$msi" Environment | grep -qx "DrayPath	=-\*PATH	\[~\];\[BINDIR\]	$exe_comp" ||
  fail "no PATH row appending BINDIR: $(table "$msi" Environment)"
table "$msi" Upgrade | awk -F'\t' -v u="{$upgrade_code}" '$1 == u' | grep -q . ||
  fail "no Upgrade row for the UpgradeCode (older versions are not replaced)"
# The newer installer: same dray.exe, same UpgradeCode, a higher version.
newer_version=$(echo "$version" | awk -F. '{printf "%d.%d.%d", $1, $2 + 1, 0}')
newer=$(DRAY_MSI_VERSION=$newer_version "$src_root/win32/build-msi.sh" "$build_dir" | tail -n1)
[ "$(prop ProductCode)" != "$(table "$newer" Property | awk -F'\t' '$1 == "ProductCode" {print $2}')" ] ||
  fail "both installers have the same ProductCode"
cp "$msi" "$work/dray.msi"
cp "$newer" "$work/dray-newer.msi"
rm -f "$newer"
step "tables ok (UpgradeCode {$upgrade_code}, version $version; newer: $newer_version)"

# ---- under wine ---------------------------------------------------------------
rm -rf "$prefix"
run --init
cd "$work"    # no dray.exe here: cmd must find it through PATH
winpath() { printf 'Z:%s\n' "$(printf '%s' "$1" | tr / '\\')"; }
installed="$prefix/drive_c/Program Files/dray/bin/dray.exe"
env_key='HKLM\System\CurrentControlSet\Control\Session Manager\Environment'
uninstall_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'
path_entries() { run reg query "$env_key" /v PATH | tr -d '\r' | tr ';' '\n' | grep -ci 'Program Files\\dray\\bin' || true; }
products() { run reg query "$uninstall_key" /s 2>/dev/null | tr -d '\r' | grep -i 'DisplayVersion\|DisplayName'; }

step "install $version"
run msiexec /i "$(winpath "$work/dray.msi")" /qn || fail "msiexec /i exited with $?"
[ -f "$installed" ] || fail "dray.exe not in C:\\Program Files\\dray\\bin"
[ -f "$prefix/drive_c/Program Files/dray/LICENSE.rtf" ] || fail "no LICENSE.rtf installed"
for lib in apr apr-util expat curl jansson libyaml; do
  grep -q "^======== $lib (" "$prefix/drive_c/Program Files/dray/THIRD-PARTY-NOTICES.txt" ||
    fail "THIRD-PARTY-NOTICES.txt lacks $lib"
done
[ "$(path_entries)" = 1 ] || fail "the system PATH names the bin folder $(path_entries) times"

step "run from the bin folder"
out=$(run 'C:\Program Files\dray\bin\dray.exe' version | tr -d '\r') || fail "dray.exe version failed"
echo "$out" | head -n1 | grep -q "^dray $version" || fail "unexpected version output: $out"

step "run by name through PATH"
out=$(run cmd /c dray version | tr -d '\r') || fail "cmd /c dray version failed: $out"
echo "$out" | head -n1 | grep -q "^dray $version" || fail "unexpected output through PATH: $out"

step "upgrade to $newer_version"
run msiexec /i "$(winpath "$work/dray-newer.msi")" /qn || fail "msiexec /i (upgrade) exited with $?"
p=$(products)
[ "$(echo "$p" | grep -ci 'DisplayName.*dray')" = 1 ] || fail "not one dray product after the upgrade: $p"
echo "$p" | grep -q "DisplayVersion.*$newer_version" || fail "the product left is not $newer_version: $p"
[ -f "$installed" ] || fail "dray.exe gone after the upgrade"
[ "$(path_entries)" = 1 ] || fail "after the upgrade the system PATH names the bin folder $(path_entries) times"

step "uninstall"
run msiexec /x "$(winpath "$work/dray-newer.msi")" /qn || fail "msiexec /x exited with $?"
[ ! -e "$installed" ] || fail "dray.exe still installed"
[ ! -e "$prefix/drive_c/Program Files/dray" ] || fail "C:\\Program Files\\dray left behind"
[ "$(path_entries)" = 0 ] || fail "the bin folder is still on the system PATH"
[ -z "$(products | grep -i 'DisplayName.*dray')" ] || fail "a dray product is still registered"
# (wine's cmd exits 0 even when it finds no such command: look at the output)
out=$(run cmd /c dray version 2>&1 | tr -d '\r') || true
if echo "$out" | grep -q "^dray $version"; then
  fail "dray still runs by name after uninstall: $out"
fi
step "ok"
