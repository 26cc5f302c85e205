#!/usr/bin/env bash
# cross-build.sh [BUILD_DIR] — build dray.exe and its unit tests for 64-bit
# Windows on Debian with mingw-w64, then `ctest --test-dir BUILD_DIR` runs the
# tests under wine.
#
# 1. Checks the tools (prints the apt-get line when one is missing).
# 2. Builds the Windows dependencies (APR, APR-util + expat, curl with
#    Schannel, jansson, libyaml, zlib, cmocka) from Debian's source packages into a
#    cache prefix, static libraries only. The build is skipped when the cache
#    key (source package versions + our patches + this recipe) matches.
# 3. Configures and builds dray in BUILD_DIR (default build-mingw) with
#    cmake/mingw-w64-x86_64.cmake, statically linked.
#
# Patches: win32/deps/patches/<source package>/*.patch, applied with -p1 in
# name order; each starts with a one-line "Reason:".
#
# Environment:
#   DRAY_MINGW_DEPS  cache folder (default $XDG_CACHE_HOME/dray-mingw-deps or
#                    ~/.cache/dray-mingw-deps)
#   JOBS             parallel jobs (default: number of CPUs)
#   DRAY_DEPS_ONLY=1 stop after the dependencies
#   DRAY_WERROR=OFF  do not treat warnings as errors (default ON)
set -euo pipefail

# Bump when the build recipe below changes in a way that changes the output.
RECIPE=2
PACKAGES="apr apr-util expat curl jansson libyaml zlib cmocka"

here=$(cd "$(dirname "$0")" && pwd)
src_root=$(cd "$here/.." && pwd)
build_dir=${1:-build-mingw}
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
cache=${DRAY_MINGW_DEPS:-${XDG_CACHE_HOME:-$HOME/.cache}/dray-mingw-deps}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
triple=x86_64-w64-mingw32
toolchain=$src_root/cmake/mingw-w64-x86_64.cmake
patches=$here/deps/patches

log() { printf 'cross-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s; }
t_start=$(now)

# ---- 1. tools ----------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need $triple-gcc gcc-mingw-w64-x86-64
need $triple-windres binutils-mingw-w64-x86-64
need cmake cmake
need cc gcc
need patch patch
need dpkg-source dpkg-dev
need xz xz-utils
need apt-get apt
if [ ${#missing[@]} -gt 0 ]; then
  die "missing tools; install them with:
  apt-get install -y --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
fi
if ! command -v wine >/dev/null 2>&1; then
  log "warning: wine not found: the tests will build but not run;" \
      "apt-get install -y --no-install-recommends wine64 wine"
fi
if command -v ninja >/dev/null 2>&1; then generator=Ninja; else generator="Unix Makefiles"; fi

# ---- 2. dependency sources ----------------------------------------------------
srcdir=$cache/src
mkdir -p "$srcdir"

have_deb_src() { apt-cache showsrc apr 2>/dev/null | grep -q '^Version:'; }

# Source entries mirrored from the binary ones, in files of our own. They
# are written whole to a temporary file and then moved in place: the files
# themselves are never read while written, each stanza appears once, and
# stanzas are separated by a blank line. (An older version globbed its own
# .sources file while writing it, and apt warned "configured multiple times"
# on every update.) Prints nothing; returns 0 when the files changed.
deb_src_base=/etc/apt/sources.list.d/dray-deb-src
write_deb_src() {
  local tmp changed=1 s
  tmp=$(mktemp)
  for s in /etc/apt/sources.list.d/*.sources; do
    [ -f "$s" ] && [ "$s" != "$deb_src_base.sources" ] || continue
    # Paragraph mode: each stanza whose Types has "deb" becomes a deb-src one.
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /(^|\n)Types:([^\n]* )?deb( [^\n]*)?(\n|$)/ {
           sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$s"
  done | awk 'BEGIN { RS = ""; ORS = "\n\n" } !seen[$0]++' > "$tmp.sources"
  for s in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$s" ] && [ "$s" != "$deb_src_base.list" ] || continue
    sed -n 's/^deb \(.*\)/deb-src \1/p' "$s"
  done | awk '!seen[$0]++' > "$tmp.list"
  for ext in sources list; do
    if [ -s "$tmp.$ext" ]; then
      if ! cmp -s "$tmp.$ext" "$deb_src_base.$ext"; then
        install -m 644 "$tmp.$ext" "$deb_src_base.$ext"
        changed=0
      fi
    elif [ -e "$deb_src_base.$ext" ]; then
      rm -f "$deb_src_base.$ext"
      changed=0
    fi
  done
  rm -f "$tmp" "$tmp.sources" "$tmp.list"
  return $changed
}

update=0
if [ "$(id -u)" = 0 ] && { [ -e "$deb_src_base.sources" ] || [ -e "$deb_src_base.list" ]; }; then
  # Ours already: keep it right (and repair what an older version wrote).
  if write_deb_src; then
    log "rewrote the deb-src entries in $deb_src_base.*"
    update=1
  fi
fi
if ! have_deb_src; then
  if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    [ "$(id -u)" = 0 ] || die "apt has no deb-src entry; as root, add one for your Debian release and run apt-get update"
    write_deb_src || true
    log "added deb-src entries in $deb_src_base.*"
  fi
  [ "$(id -u)" = 0 ] || die "apt knows no source packages; run apt-get update as root"
  update=1
fi
if [ $update = 1 ]; then
  log "apt-get update"
  apt-get update -qq
fi

# dsc_of PKG: the .dsc used for PKG. Newest version first; an older one when
# the newest cannot be fetched (a mirror may lag); a cached one when offline.
dsc_of() {
  local pkg=$1 v dsc
  for v in $(apt-cache showsrc --only-source "$pkg" 2>/dev/null |
             awk '/^Version:/ {print $2}' | sort -rV | uniq); do
    dsc=${pkg}_${v#*:}.dsc
    if [ -f "$srcdir/$dsc" ]; then echo "$dsc"; return 0; fi
    if (cd "$srcdir" && apt-get source -qq --download-only "$pkg=$v" >/dev/null 2>&1) &&
       [ -f "$srcdir/$dsc" ]; then
      echo "$dsc"; return 0
    fi
    log "note: could not fetch $pkg $v, trying an older version"
  done
  dsc=$(cd "$srcdir" && ls -1 "${pkg}"_*.dsc 2>/dev/null | sort -rV | head -n1)
  [ -n "$dsc" ] || return 1
  echo "$dsc"
}

declare -A DSC
for p in $PACKAGES; do
  DSC[$p]=$(dsc_of "$p") || die "cannot get the source package $p"
done

key=$( {
  echo "recipe $RECIPE"
  for p in $PACKAGES; do echo "${DSC[$p]}"; done
  sha256sum "$toolchain" | cut -d' ' -f1
  for p in $PACKAGES; do
    for f in "$patches/$p"/*.patch; do [ -f "$f" ] && echo "$p/$(basename "$f") $(sha256sum < "$f")"; done
  done
  $triple-gcc -dumpfullversion
} | sha256sum | cut -c1-16)
prefix=$cache/prefix

build_deps() {
  local work=$cache/work tmp=$cache/prefix.new
  rm -rf "$work" "$tmp"
  mkdir -p "$work" "$tmp"
  local common=(-G "$generator" -DCMAKE_TOOLCHAIN_FILE="$toolchain"
                -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$tmp"
                -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF)
  export DRAY_MINGW_PREFIX=$tmp

  unpack() { # PKG -> prints the unpacked source folder
    local pkg=$1 d
    d=$work/$pkg
    dpkg-source --no-check -x "$srcdir/${DSC[$pkg]}" "$d" >/dev/null ||
      die "dpkg-source -x ${DSC[$pkg]} failed"
    local f
    for f in "$patches/$pkg"/*.patch; do
      [ -f "$f" ] || continue
      patch -d "$d" -p1 -s --no-backup-if-mismatch < "$f" || die "patch $(basename "$f") failed"
    done
    echo "$d"
  }
  one() { # PKG SUBDIR CMAKE-ARGS...
    local pkg=$1 sub=$2 t d; shift 2
    t=$(now)
    d=$(unpack "$pkg")
    log "building $pkg (${DSC[$pkg]%.dsc})"
    cmake -S "$d/$sub" -B "$work/$pkg-build" "${common[@]}" "$@" \
      > "$work/$pkg.log" 2>&1 &&
    cmake --build "$work/$pkg-build" -j "$jobs" >> "$work/$pkg.log" 2>&1 &&
    cmake --install "$work/$pkg-build" >> "$work/$pkg.log" 2>&1 ||
      { tail -n 40 "$work/$pkg.log" >&2; die "$pkg failed; log: $work/$pkg.log"; }
    log "  $pkg: $(( $(now) - t )) s"
  }

  one apr . -DAPR_STATIC_ONLY=ON -DINSTALL_PDB=OFF -DAPR_HAVE_IPV6=ON
  one expat expat -DEXPAT_SHARED_LIBS=OFF -DEXPAT_BUILD_TOOLS=OFF \
    -DEXPAT_BUILD_EXAMPLES=OFF -DEXPAT_BUILD_TESTS=OFF -DEXPAT_BUILD_DOCS=OFF \
    -DEXPAT_BUILD_PKGCONFIG=OFF
  one apr-util . -DAPU_STATIC_ONLY=ON -DINSTALL_PDB=OFF -DAPU_HAVE_ODBC=OFF \
    -DAPR_HAS_LDAP=OFF -DAPU_HAVE_CRYPTO=OFF \
    -DAPR_INCLUDE_DIR="$tmp/include" -DAPR_LIBRARIES="$tmp/lib/libapr-1.a" \
    -DEXPAT_INCLUDE_DIR="$tmp/include" -DEXPAT_LIBRARY="$tmp/lib/libexpat.a"
  one jansson . -DJANSSON_BUILD_SHARED_LIBS=OFF -DJANSSON_BUILD_DOCS=OFF \
    -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_EXAMPLES=OFF
  one libyaml . -DBUILD_TESTING=OFF -DINSTALL_CMAKE_DIR=lib/cmake/yaml
  # zlib (the registry push driver's gzip): the static library alone,
  # under the name find_library looks for. (Debian's source lacks win32/,
  # which the DLL's resources need, so the DLL and "install" are left out.)
  (
    set -e
    d=$(unpack zlib)
    log "building zlib (${DSC[zlib]%.dsc})"
    cmake -S "$d" -B "$work/zlib-build" "${common[@]}" > "$work/zlib.log" 2>&1
    cmake --build "$work/zlib-build" -j "$jobs" --target zlibstatic >> "$work/zlib.log" 2>&1
    mkdir -p "$tmp/include" "$tmp/lib"
    cp "$d/zlib.h" "$work/zlib-build/zconf.h" "$tmp/include/"
    cp "$work/zlib-build/libzlibstatic.a" "$tmp/lib/libz.a"
  ) || { tail -n 40 "$work/zlib.log" >&2; die "zlib failed; log: $work/zlib.log"; }
  one cmocka . -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF
  # Only the static cmocka, under the name find_library looks for.
  mv -f "$tmp/lib/libcmocka-static.a" "$tmp/lib/libcmocka.a"
  rm -f "$tmp"/lib/libcmocka.dll.a "$tmp"/bin/*cmocka*.dll
  # curl: HTTP(S) only, TLS through Windows' Schannel, no other dependency.
  one curl . -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DHTTP_ONLY=ON \
    -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF -DCURL_USE_MBEDTLS=OFF \
    -DCURL_USE_WOLFSSL=OFF -DCURL_USE_BEARSSL=OFF -DCURL_USE_NSS=OFF \
    -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DCURL_USE_GSSAPI=OFF \
    -DUSE_NGHTTP2=OFF -DUSE_NGTCP2=OFF -DUSE_QUICHE=OFF -DUSE_MSH3=OFF \
    -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_LIBIDN2=OFF \
    -DUSE_WIN32_IDN=OFF -DENABLE_UNICODE=ON -DCURL_DISABLE_LDAP=ON \
    -DCURL_DISABLE_LDAPS=ON -DENABLE_MANUAL=OFF -DCURL_CA_BUNDLE=none \
    -DCURL_CA_PATH=none

  # An initial cache for configuring dray against this prefix by hand:
  #   DRAY_MINGW_PREFIX=<prefix> cmake -C <prefix>/dray-deps.cmake \
  #     -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake ...
  # Static archives do not carry their own dependencies: expat goes with
  # APR-util, the Windows system libraries with curl.
  cat > "$tmp/dray-deps.cmake" <<'EOF'
# Written by win32/cross-build.sh: dray against the static mingw-w64 deps.
get_filename_component(_p "${CMAKE_CURRENT_LIST_DIR}" ABSOLUTE)
set(DRAY_MINGW_PREFIX "${_p}" CACHE PATH "mingw-w64 dependency prefix")
set(DRAY_NO_PKGCONFIG ON CACHE BOOL "")
set(DRAY_APRUTIL_LIBRARY "${_p}/lib/libaprutil-1.a;${_p}/lib/libexpat.a" CACHE STRING "")
set(DRAY_CURL_LIBRARY "${_p}/lib/libcurl.a;ws2_32;crypt32;secur32;bcrypt;advapi32" CACHE STRING "")
set(CMAKE_C_FLAGS "-DAPR_DECLARE_STATIC -DAPU_DECLARE_STATIC -DCURL_STATICLIB -DYAML_DECLARE_STATIC -DXML_STATIC" CACHE STRING "")
set(CMAKE_EXE_LINKER_FLAGS "-static" CACHE STRING "")
EOF
  echo "$key" > "$tmp/.dray-deps-key"
  rm -rf "$prefix" "$work"
  mv "$tmp" "$prefix"
}

if [ -f "$prefix/.dray-deps-key" ] && [ "$(cat "$prefix/.dray-deps-key")" = "$key" ]; then
  log "dependencies: cached in $prefix (key $key)"
else
  log "dependencies: building into $prefix (key $key)"
  t=$(now)
  build_deps
  log "dependencies built in $(( $(now) - t )) s"
fi
[ "${DRAY_DEPS_ONLY:-0}" = 1 ] && { log "done in $(( $(now) - t_start )) s"; exit 0; }

# The licenses of what dray.exe links statically, from the upstream tarballs
# of the source packages used: BUILD_DIR/THIRD-PARTY-NOTICES.txt, which the
# MSI installs (win32/build-msi.sh). cmocka is only in the tests.
notices() {
  local p tarball f
  printf 'dray.exe includes the following software, statically linked.\r\n'
  for p in apr apr-util expat curl jansson libyaml zlib; do
    tarball=$(awk '/^Files:/ {on = 1; next} on && /^ / {print $3} on && !/^ / {on = 0}' \
                "$srcdir/${DSC[$p]}" | grep '\.orig\.tar\.[a-z0-9]*$' | head -n1)
    [ -n "$tarball" ] && [ -f "$srcdir/$tarball" ] || die "no upstream tarball for $p"
    printf '\r\n======== %s (%s) ========\r\n' "$p" "${DSC[$p]%.dsc}"
    for f in $(tar -tf "$srcdir/$tarball" |
               grep -E '^[^/]+/(LICENSE|NOTICE|COPYING|License)(\.txt)?$' | sort); do
      printf '\r\n---- %s ----\r\n' "${f#*/}"
      tar -xOf "$srcdir/$tarball" "$f" | sed 's/\r*$/\r/'
    done
  done
}
notices > "$build_dir/THIRD-PARTY-NOTICES.txt.new" &&
  mv "$build_dir/THIRD-PARTY-NOTICES.txt.new" "$build_dir/THIRD-PARTY-NOTICES.txt"

# ---- 3. dray ------------------------------------------------------------------
export DRAY_MINGW_PREFIX=$prefix
t=$(now)
cmake -S "$src_root" -B "$build_dir" -G "$generator" \
  -C "$prefix/dray-deps.cmake" \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDRAY_NO_PKGCONFIG=ON -DDRAY_INTEGRATION_TESTS=OFF -DDRAY_WERROR="${DRAY_WERROR:-ON}"
status=0
cmake --build "$build_dir" -j "$jobs" || status=$?
if [ $status -ne 0 ]; then
  # Show what does build, so that one broken core file does not hide the rest.
  log "full build failed ($status); building the platform layer and its test alone"
  cmake --build "$build_dir" -j "$jobs" --target test_platform || true
fi
log "dray: $(( $(now) - t )) s; total $(( $(now) - t_start )) s"
[ $status -eq 0 ] && log "run the tests: ctest --test-dir $build_dir --output-on-failure"
exit $status
