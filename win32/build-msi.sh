#!/usr/bin/env bash
# build-msi.sh [BUILD_DIR] — packaging/wix/dray.wxs -> BUILD_DIR/dray-VERSION-x64.msi
# from BUILD_DIR/dray.exe (made by win32/cross-build.sh) and LICENSE, with
# msitools. VERSION is CMake's (BUILD_DIR/include/dray/version.h);
# DRAY_MSI_VERSION overrides it (tests: an upgrade of the same dray.exe).
#
# wixl (msitools 0.101) has no <Environment> element, so it builds the .wxs
# without it and the PATH entry that element stands for is added afterwards
# with msibuild: an Environment row "=-*PATH" = "[~];[BINDIR]" (set on
# install, removed on uninstall, system-wide, appended) and the two standard
# actions that apply it in InstallExecuteSequence. Prints the MSI's path.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src_root=$(cd "$here/.." && pwd)
build_dir=$(cd "${1:-build-mingw}" && pwd)
wxs=$src_root/packaging/wix/dray.wxs
exe=$build_dir/dray.exe

die() { printf 'build-msi: error: %s\n' "$*" >&2; exit 1; }
for t in wixl msibuild msiinfo; do
  command -v $t >/dev/null 2>&1 ||
    die "$t not found; apt-get install -y --no-install-recommends wixl msitools"
done
[ -f "$exe" ] || die "$exe not found; run win32/cross-build.sh $build_dir first"
notices=$build_dir/THIRD-PARTY-NOTICES.txt
[ -s "$notices" ] || die "$notices not found; run win32/cross-build.sh $build_dir first"
version=$(sed -n 's/^#define DRAY_VERSION "\([0-9.]*\)".*/\1/p' \
  "$build_dir/include/dray/version.h" 2>/dev/null | head -n1)
[ -n "$version" ] || die "no DRAY_VERSION in $build_dir/include/dray/version.h"
# Tests build a "newer" installer of the same dray.exe to check upgrades.
if [ -n "${DRAY_MSI_VERSION:-}" ]; then
  version=$DRAY_MSI_VERSION
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
msi=$build_dir/dray-$version-x64.msi

# The license as RTF (what the WiX dialog shows; installed as a file too),
# from LICENSE: paragraphs kept, RTF's \ { } escaped.
{
  printf '{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\fmodern Courier New;}}\\f0\\fs18\n'
  sed -e 's/\\/\\\\/g' -e 's/{/\\{/g' -e 's/}/\\}/g' -e 's/$/\\par/' "$src_root/LICENSE"
  printf '}\n'
} > "$work/LICENSE.rtf"
cp "$work/LICENSE.rtf" "$build_dir/LICENSE.rtf"

# The .wxs minus what wixl does not know: its <Environment .../> element (may
# span lines), the WixUI dialog set and its license variable, and
# Package/@Platform (wixl takes -a x64 instead). wixl wants source files
# relative to the .wxs.
sed -e '/<Environment /,/\/>/d' -e '/<WixVariable /d' -e '/<UIRef /d' \
    -e 's/ Platform="x64"//' "$wxs" > "$work/dray.wxs"
grep -q '<Environment \|<UIRef ' "$work/dray.wxs" && die "could not remove what wixl does not know"
cp "$exe" "$work/dray.exe"
cp "$notices" "$work/THIRD-PARTY-NOTICES.txt"
(cd "$work" && wixl -a x64 -D Version="$version" -D DrayExe=dray.exe -D LicenseRtf=LICENSE.rtf \
   -D NoticesTxt=THIRD-PARTY-NOTICES.txt -o dray.msi dray.wxs)

# The component that holds dray.exe carries the PATH entry, as in the .wxs.
component=$(msiinfo export "$work/dray.msi" File | awk -F'\t' '$1 == "dray.exe" {print $2}')
[ -n "$component" ] || die "no component for dray.exe in the MSI"

# .idt files: a header of column names, one of column types, one of the
# table name and its primary key; tab-separated, CR LF line ends.
printf '%s\r\n' "Environment	Name	Value	Component_" "s72	l255	L255	s72" \
  "Environment	Environment" "DrayPath	=-*PATH	[~];[BINDIR]	$component" \
  > "$work/Environment.idt"
msiinfo export "$work/dray.msi" InstallExecuteSequence | tr -d '\r' > "$work/seq"
grep -q '^WriteEnvironmentStrings	' "$work/seq" || {
  # Their standard places: after RemoveFiles / after WriteRegistryValues.
  printf 'RemoveEnvironmentStrings\t\t3300\nWriteEnvironmentStrings\t\t5200\n' >> "$work/seq"
}
sed 's/$/\r/' "$work/seq" > "$work/InstallExecuteSequence.idt"
(cd "$work" && msibuild dray.msi -i Environment.idt InstallExecuteSequence.idt)

msiinfo export "$work/dray.msi" Environment | grep -q '=-\*PATH' ||
  die "the Environment row is missing after msibuild"
mv -f "$work/dray.msi" "$msi"
echo "$msi"
