#!/usr/bin/env bash
# cltrain tune --paths-only (the GEMM-path half of a tune, which the full search runs the
# same way after its CLBlast search; without that search's compiles the test takes
# seconds), 2 timed probe steps: it stores a GEMM path for every Linear shape of the models
# at every batch size (docs/FORMATS.md "Tuning files"),
# `tune --show` lists them, and a run follows them (--gemm auto: bench's gemm column). A
# hostile "linear" line (valid checksum, bad field) is one line and exit 2 for
# `tune --show`, and one warning for a run, which goes on without the tuning (README.md).
set -u
BIN=${1:?usage: cli_tune.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
export CLTRAIN_TUNING_DIR="$tmp/tuning"
unset CLTRAIN_NO_TUNING

"$BIN" tune --show >"$tmp/show0" 2>&1 || fail "tune --show without a file exited $?: $(cat "$tmp/show0")"
grep -q "no stored tuning" "$tmp/show0" || fail "tune --show without a file: $(cat "$tmp/show0")"

"$BIN" tune --paths-only --models jsc-tiny,jsc-toy --batch-sizes 32,64 --reps 2 >"$tmp/tune" 2>&1 ||
  fail "tune exited $?: $(cat "$tmp/tune")"
file=$(ls "$CLTRAIN_TUNING_DIR"/*.tune 2>/dev/null | head -1)
[ -n "$file" ] || fail "tune stored no file: $(cat "$tmp/tune")"
[ "$(head -1 "$file")" = "cltrain-tuning 2" ] || fail "tuning file format: $(head -1 "$file")"
# jsc-tiny: 16x5; jsc-toy: 16x8, 8x8, 8x5; each at batch 32 and 64.
for shape in "16 5" "16 8" "8 8" "8 5"; do
  for b in 32 64; do
    n=$(grep -cE "^linear $shape $b (clblast|fused) [0-9.]+ [0-9.]+$" "$file")
    [ "$n" = 1 ] || fail "$n entries for $shape at batch $b in $file: $(grep '^linear' "$file")"
  done
done
[ "$(grep -c '^linear' "$file")" = 8 ] || fail "expected 8 linear lines: $(grep '^linear' "$file")"
"$BIN" tune --show >"$tmp/show" 2>&1 || fail "tune --show exited $?: $(cat "$tmp/show")"
grep -q "8x8 batch 64: " "$tmp/show" || fail "tune --show lacks 8x8 at batch 64: $(cat "$tmp/show")"

# Rewrite the file with its checksum recomputed (FNV-1a 64 of everything before the
# checksum line), as a hostile or hand-edited file would come.
rewrite() { # 'REGEX => REPLACEMENT' (Python re, multi-line)
  python3 - "$file" "$1" <<'EOF'
import re, sys
path, expr = sys.argv[1], sys.argv[2]
body = open(path).read().split("checksum ")[0]
old, new = expr.split(" => ")
body = re.sub(old, new, body, flags=re.M)
h = 0xcbf29ce484222325
for b in body.encode():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
open(path, "w").write(body + "checksum %016x\n" % h)
EOF
}
# Forcing every stage to CLBlast: a jsc-toy bench under --gemm auto runs no fused stage.
rewrite ' fused  =>  clblast '
"$BIN" bench --quick --no-epoch --models jsc-toy --batch-sizes 64 --out "$tmp/b1" >"$tmp/b1.out" 2>&1 ||
  fail "bench exited $?: $(cat "$tmp/b1.out")"
[ "$(awk -F, 'NR == 2 {print $14}' "$tmp/b1/bench.csv")" = clblast ] || fail "stored clblast: $(cat "$tmp/b1/bench.csv")"
# Only 8x8 on CLBlast: mixed.
rewrite '^linear (16 8|8 5) (\d+) clblast => linear \1 \2 fused'
"$BIN" bench --quick --no-epoch --models jsc-toy --batch-sizes 64 --out "$tmp/b2" >"$tmp/b2.out" 2>&1 ||
  fail "bench exited $?: $(cat "$tmp/b2.out")"
[ "$(awk -F, 'NR == 2 {print $14}' "$tmp/b2/bench.csv")" = mixed ] || fail "stored 8x8 clblast: $(cat "$tmp/b2/bench.csv")"

rewrite '^linear 8 8 64 clblast => linear 8 8 64 cublas'
p=$(bad_input_problem "path 'cublas' is not clblast or fused" "$BIN" tune --show)
[ -z "$p" ] || fail "hostile path field: $p"
rewrite '^linear 8 8 64 cublas => linear 8 8 99999999 fused'
p=$(bad_input_problem "batch size '99999999' is not an integer" "$BIN" tune --show)
[ -z "$p" ] || fail "hostile batch field: $p"
# A run warns once, naming the file, and goes on (with the built-in default: all fused).
"$BIN" bench --quick --no-epoch --models jsc-toy --batch-sizes 64 --out "$tmp/b3" >"$tmp/b3.out" 2>"$tmp/b3.err" ||
  fail "bench with a hostile tuning file exited $?: $(cat "$tmp/b3.err")"
[ "$(grep -c '^cltrain:' "$tmp/b3.err")" = 1 ] && grep -q "ignoring tuning file.*$file" "$tmp/b3.err" ||
  fail "bench with a hostile tuning file: $(cat "$tmp/b3.err")"
[ "$(awk -F, 'NR == 2 {print $14}' "$tmp/b3/bench.csv")" = fused ] || fail "default path: $(cat "$tmp/b3/bench.csv")"

[ $failures = 0 ] && echo "cli_tune: all checks passed"
exit $((failures > 0))
