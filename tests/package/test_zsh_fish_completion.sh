#!/bin/sh
# The zsh and fish completion scripts, with the dray of this build first on
# PATH, in a folder with a compose file: fish's own `complete -C` on partial
# command lines; zsh's _dray with compadd and _files stood in for (zsh
# completes only in an interactive line editor), checking what it hands them.
# A shell that is not installed is skipped (exit 77 when both are missing).
# Usage: test_zsh_fish_completion.sh DRAY_BINARY SOURCE_DIR
set -u
dray_bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/proj/api" "$work/proj/worker"
ln -s "$dray_bin" "$work/bin/dray"
export PATH="$work/bin:$PATH"
printf 'FROM scratch\n' > "$work/proj/api/Dockerfile"
printf 'FROM scratch\n' > "$work/proj/worker/Dockerfile"
printf 'services:\n  api:\n    build: ./api\n  worker:\n    build: ./worker\n' > "$work/proj/compose.yaml"
cd "$work/proj" || exit 1
failed=0 ran=0
same() { # WHAT WANT GOT
  if [ "$2" != "$3" ]; then echo "FAIL: $1: want [$2], got [$3]"; failed=1; else echo "ok: $1 -> [$3]"; fi
}

if command -v fish >/dev/null 2>&1; then
  ran=1
  fishc() {
    fish --no-config -c "source '$src/packaging/completions/dray.fish'; complete -C'$1'" |
      cut -f1 | sort | tr '\n' ' ' | sed 's/ $//'
  }
  same "fish: dray run --progress " "auto live plain quiet" "$(fishc 'dray run --progress ')"
  same "fish: dray pu" "push" "$(fishc 'dray pu')"
  same "fish: dray run --only " "api worker" "$(fishc 'dray run --only ')"
  same "fish: dray build --no-c" "--no-cache" "$(fishc 'dray build --no-c')"
  same "fish: dray run -f comp" "compose.yaml" "$(fishc 'dray run -f comp')"
else
  echo "fish not installed: skipped"
fi

if command -v zsh >/dev/null 2>&1; then
  ran=1
  zshc() { # WORDS...: the last one is being completed
    zsh -f -c '
      compadd() { while [ "$1" != "--" ]; do shift; done; shift; print -l -- "$@"; }
      _files() { print -r -- ":files" "$@"; }
      source "$1"/packaging/completions/_dray 2>/dev/null
      shift
      words=("$@"); CURRENT=$#
      _dray' zsh "$src" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
  }
  same "zsh: dray run --progress ''" "auto live plain quiet" "$(zshc dray run --progress '')"
  same "zsh: dray ru" "run" "$(zshc dray ru)"
  same "zsh: dray run --skip w" "worker" "$(zshc dray run --skip w)"
  same "zsh: dray run -f c" ":files" "$(zshc dray run -f c)"
  same "zsh: dray plan a" ":files -/" "$(zshc dray plan a)"
else
  echo "zsh not installed: skipped"
fi
[ $ran = 1 ] || exit 77
exit $failed
