#!/bin/bash
# Bad input to train and test: each case exits 2 with one line on stderr naming the problem,
# and no run directory is left behind.
set -u
BIN=$1
. "$(dirname "$0")/bad_input.sh"
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

expect_usage() { # needle, then the arguments
  local p
  p=$(bad_input_problem "$1" "$BIN" "${@:2}")
  check '[ -z "$p" ]' "'${*:2}': $p"
}
T=(train jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1)
expect_usage "--batch-size: 'abc' is not an integer" "${T[@]}" --batch-size abc
expect_usage "--batch-size: '0'" "${T[@]}" --batch-size 0
expect_usage "--max-epochs: '2.5'" "${T[@]}" --max-epochs 2.5
expect_usage "--learning-rate: '0' is not a number in (0, 10]" "${T[@]}" --learning-rate 0
expect_usage "--learning-rate: 'fast'" "${T[@]}" --learning-rate fast
expect_usage "--optimizer: 'adagrad' is not one of adam, adamw, sgd, rmsprop" "${T[@]}" --optimizer adagrad
expect_usage "--scheduler: 'step'" "${T[@]}" --scheduler step
expect_usage "--gemm: 'cublas' is not one of auto, clblast, fused" "${T[@]}" --gemm cublas
expect_usage "--weight-decay: '-1'" "${T[@]}" --weight-decay -1
expect_usage "--seed: 'x'" "${T[@]}" --seed x
expect_usage "--early-stopping: '-2'" "${T[@]}" --early-stopping -2
expect_usage "--log-every-n-steps: '0'" "${T[@]}" --log-every-n-steps 0
expect_usage "--val-fraction: '1'" "${T[@]}" --val-fraction 1
expect_usage "--synth-size: 'big'" "${T[@]}" --synth-size big
expect_usage "unknown option '--bogus'" "${T[@]}" --bogus
expect_usage "unknown option '-x'" "${T[@]}" -x
expect_usage "option '--max-epochs' needs a value" "${T[@]}" --max-epochs
expect_usage "--load and --resume exclude each other" "${T[@]}" --load a.ckpt --resume b.ckpt
expect_usage "needs MODEL and DATASET" train jsc-tiny
expect_usage "needs MODEL and DATASET" train
expect_usage "unexpected argument 'extra'" train jsc-tiny jsc-synth extra
expect_usage "unknown model 'jsc-huge'" train jsc-huge jsc-synth --synth-size 2000
expect_usage "no-such.ckpt" train --resume no-such.ckpt
expect_usage "no-such.ckpt" "${T[@]}" --load no-such.ckpt
printf 'input 16\nlinear 4\n' > four.model
expect_usage "four.model:2: the model's output width is 4 but the dataset has 5 classes" \
  train four.model jsc-synth --synth-size 2000
expect_usage "device '99': index out of range" "${T[@]}" --device 99
expect_usage "device 'no-such-gpu' matches no OpenCL device" "${T[@]}" --device no-such-gpu
expect_usage "--batch-size 1 with batchnorm" "${T[@]}" --batch-size 1
expect_usage "test: needs --load CKPT" test jsc-tiny jsc-synth
expect_usage "test: --split: 'dev' is not test, val, train or all" test jsc-tiny jsc-synth --load x.ckpt --split dev
expect_usage "test: unknown option '--max-epochs'" test jsc-tiny jsc-synth --load x.ckpt --max-epochs 3
expect_usage "x.ckpt" test jsc-tiny jsc-synth --load x.ckpt
check '[ ! -e runs ]' "a refused run left a runs/ directory"

out=$("$BIN" train --help); rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q -- "--early-stopping N" && echo "$out" | grep -q -- "--resume CKPT"' "train --help"
out=$("$BIN" test --help); rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q -- "--split NAME"' "test --help"
exit $fail
