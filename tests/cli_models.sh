#!/bin/bash
# cltrain models: zoo names with exact parameter counts, the layer table of a zoo model and
# of a model file, and one-line errors (exit 2) for unknown or malformed models.
set -u
BIN=$1
. "$(dirname "$0")/bad_input.sh"
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$BIN" models); rc=$?
check '[ $rc -eq 0 ]' "models exit $rc"
for pair in jsc-tiny:117 jsc-toy:327 jsc-s:5615 jsc-trt:3231; do
  name=${pair%:*}; params=${pair#*:}
  check "echo \"\$out\" | awk -v n=$name -v p=$params '\$1==n && \$2==p {ok=1} END {exit !ok}'" "zoo row $name $params"
done
check '[ $(echo "$out" | wc -l) -eq 5 ]' "zoo list has a header and 4 rows"

out=$("$BIN" models jsc-tiny); rc=$?
check '[ $rc -eq 0 ]' "models jsc-tiny exit $rc"
# index line layer in->out params total
check 'echo "$out" | grep -Eq "^ +0 +3 +batchnorm +16->16 +32 +32$"' "tiny row 0"
check 'echo "$out" | grep -Eq "^ +2 +5 +linear +16->5 +85 +117$"' "tiny row 2"
check 'echo "$out" | grep -q "^total: 117 parameters$"' "tiny total"

cat > "$tmp/mine.model" <<'M'
# a model file of my own
input 16

linear 32     # hidden
leaky_relu 0.2
dropout 0.25
linear 5
M
out=$("$BIN" models "$tmp/mine.model"); rc=$?
check '[ $rc -eq 0 ]' "model file exit $rc"
check 'echo "$out" | grep -Eq "^ +0 +4 +linear +16->32 +544 +544$"' "file row 0 (line 4)"
check 'echo "$out" | grep -Eq "^ +1 +5 +leaky_relu 0.2 +32->32 +0 +544$"' "file row 1"
check 'echo "$out" | grep -Eq "^ +3 +7 +linear +32->5 +165 +709$"' "file row 3"
check 'echo "$out" | grep -q "^total: 709 parameters$"' "file total"

expect_usage() { # args... ; needle
  local p
  p=$(bad_input_problem "${!#}" "$BIN" "${@:1:$#-1}")
  check '[ -z "$p" ]' "'${*:1:$#-1}': $p"
}
printf 'input 16\nlinear 5\nconv 3\n' > "$tmp/bad.model"
expect_usage models "$tmp/bad.model" "bad.model:3: unknown layer 'conv'"
expect_usage models no-such-model "unknown model 'no-such-model'"
expect_usage models "$tmp/missing.model" "missing.model"
expect_usage models --bogus "unknown option '--bogus'"
exit $fail
