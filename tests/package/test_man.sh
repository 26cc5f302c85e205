#!/bin/sh
# The man page against the program: every option a command's --help lists
# is in the man page's OPTIONS, and every option there is one some command
# takes (dray run takes all but a few); its version is the program's.
# Usage: test_man.sh DRAY_BINARY MAN_PAGE
set -eu
dray=$1
page=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The options of the man page: the heads (the line after .TP) in OPTIONS.
awk '/^\.SH /{in_opts = ($2 == "OPTIONS")} in_opts && prev == ".TP" {print} {prev = $0}' "$page" |
  sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z-]*' | sort -u > "$work/man"
[ -s "$work/man" ] || { echo "no options found in $page"; exit 1; }

help_opts() { # COMMAND: the options its --help lists
  "$dray" "$1" --help | grep -oE -- '^  (-[a-zA-Z], |    )--[a-z][a-z-]*' |
    grep -oE -- '--[a-z][a-z-]*' | sort -u
}
help_opts run > "$work/run"
[ "$(wc -l < "$work/run")" -gt 10 ] || { echo "dray run --help lists too few options"; exit 1; }
: > "$work/all"
for cmd in run build push plan report; do help_opts $cmd >> "$work/all"; done
sort -u -o "$work/all" "$work/all"

status=0
missing=$(comm -23 "$work/run" "$work/man")
[ -z "$missing" ] || { echo "in 'dray run --help', not in the man page:"; echo "$missing"; status=1; }
missing=$(comm -23 "$work/all" "$work/man")
[ -z "$missing" ] || { echo "in a command's --help, not in the man page:"; echo "$missing"; status=1; }
extra=$(comm -13 "$work/all" "$work/man")
[ -z "$extra" ] || { echo "in the man page, no command takes:"; echo "$extra"; status=1; }

# One version: the man page's header and dray version's first line.
v=$("$dray" version | head -n1 | awk '{print $2}')
grep -q "^\.TH DRAY 1 .*\"dray $v\"" "$page" || { echo "man page version is not $v"; status=1; }
# Every command of the overview has its entry.
for cmd in $("$dray" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}'); do
  grep -q "^\.B $cmd\$\|^\.BR $cmd " "$page" || { echo "command $cmd not in COMMANDS"; status=1; }
done
# It renders without warnings.
if command -v groff >/dev/null 2>&1; then
  out=$(groff -t -man -ww -z "$page" 2>&1) || true
  [ -z "$out" ] || { echo "groff: $out"; status=1; }
fi
[ $status = 0 ] && echo "man page ok: $(wc -l < "$work/man") options, version $v"
exit $status
