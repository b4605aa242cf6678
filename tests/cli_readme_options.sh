#!/usr/bin/env bash
# README's command reference covers every command and every option: for each command,
# each --option its --help lists appears in that command's README section (from
# "### `cltrain CMD" to the next heading of level 2 or 3). The training options listed
# by train --help may be documented once, in train's section: the sections of sweep,
# compare and test refer to them. Also every command `cltrain --help` lists has a section.
set -u
BIN=${1:?usage: cli_readme_options.sh path/to/cltrain}
SRC=${CLTRAIN_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
README="$SRC/README.md"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

options_of() { grep -o -- '--[a-z][a-z0-9-]*' | grep -vx -- '--help' | sort -u; }
section() { # CMD: the README text of its section
  awk -v cmd="$1" '
    /^##+ / { inside = index($0, "### `cltrain " cmd " ") == 1 || $0 == "### `cltrain " cmd "`" ||
                       index($0, "### `cltrain " cmd "`") == 1 }
    inside' "$README"
}

commands=$("$BIN" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$commands" ] || fail "cltrain --help lists no commands"
train_opts=$("$BIN" train --help | options_of)
for cmd in $commands; do
  text=$(section "$cmd")
  if [ -z "$text" ]; then
    fail "README has no section '### \`cltrain $cmd ...\`'"
    continue
  fi
  for opt in $("$BIN" "$cmd" --help | options_of); do
    grep -qE -- "$opt([^a-z0-9-]|\$)" <<<"$text" && continue
    # A training option may be documented once, in train's section, when this section
    # says that train's options apply.
    if [ "$cmd" != train ] && grep -qx -- "$opt" <<<"$train_opts" &&
      grep -q 'option of `cltrain train`\|options of `cltrain train`' <<<"$text"; then
      continue
    fi
    fail "README section of '$cmd' does not document $opt"
  done
done
[ $failures -eq 0 ] && echo "cli_readme_options: every command's --help options are in README"
exit $((failures > 0))
