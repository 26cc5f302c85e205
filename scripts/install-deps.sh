#!/bin/sh
# Install what dray needs to build, run and test on Debian 12 (bookworm).
# (groff-base, lintian, debootstrap, zsh, fish: the man page, .deb and
# completion tests; each of those tests is skipped or left out without them.)
# Idempotent: packages already there are not fetched again.
set -eu

PACKAGES="build-essential cmake pkg-config git ca-certificates
  libapr1-dev libaprutil1-dev libcurl4-openssl-dev libjansson-dev libyaml-dev libcmocka-dev zlib1g-dev libssl-dev
  docker.io docker-registry busybox-static python3 procps valgrind apache2-utils podman
  groff-base lintian debootstrap zsh fish clang"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root (missing:$missing)" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
