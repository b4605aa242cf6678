#!/usr/bin/env bash
# A few training steps through the CLI on Oclgrind of the zoo models the golden replay
# (oclgrind_net_golden: jsc-toy, jsc-trt and every layer kind, work-group form) does not
# cover, jsc-tiny and jsc-s, in the vector form (CLTRAIN_KERNEL_FORM=vector, as on a CPU),
# each under run_checked.sh: no report from cltrain's kernels, and the run must finish with
# a finite loss (both forms of every kernel run in the op tests). These run stage by stage
# (--whole-net off: in the vector form auto would take the whole-network kernel); then
# jsc-tiny through the whole-network kernel, which also reads its metrics rows from the
# device's snapshots.
#   train_zoo.sh CLTRAIN VENDORS_DIR SHIM_SO LOG_DIR
set -euo pipefail
bin=$1 vendors=$2 shim=$3 logs=$4
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
form=vector
for model in jsc-tiny jsc-s; do
  # 400 jets: 3 training steps of up to 96 rows, then validation and test
  bash "$here/run_checked.sh" "$vendors" "$shim" "$logs/train_${model}_$form.log" -- \
    env CLTRAIN_KERNEL_FORM=$form "$bin" train "$model" jsc-synth --synth-size 400 --max-epochs 1 \
    --batch-size 96 --learning-rate 1e-2 --whole-net off --no-cache --no-progress --project-dir "$tmp/$model" \
    > "$tmp/out" 2>&1 || { cat "$tmp/out"; echo "FAIL: $model ($form form) on Oclgrind"; exit 1; }
  summary=$(ls "$tmp/$model"/"$model"_jsc-synth_*/summary.json)
  grep -Eq '"final_train_loss": *[0-9]' "$summary" ||
    { cat "$summary"; echo "FAIL: $model ($form form): no finite training loss"; exit 1; }
  echo "ok: $model ($form form): $(tail -n 1 "$tmp/out")"
done
model=jsc-tiny
bash "$here/run_checked.sh" "$vendors" "$shim" "$logs/train_${model}_whole.log" -- \
  env CLTRAIN_KERNEL_FORM=$form "$bin" train "$model" jsc-synth --synth-size 400 --max-epochs 1 \
  --batch-size 40 --learning-rate 1e-2 --log-every-n-steps 2 --whole-net on --no-cache --no-progress \
  --project-dir "$tmp/whole" > "$tmp/out" 2>&1 || { cat "$tmp/out"; echo "FAIL: $model (whole) on Oclgrind"; exit 1; }
summary=$(ls "$tmp/whole"/"$model"_jsc-synth_*/summary.json)
grep -Eq '"final_train_loss": *[0-9]' "$summary" && grep -q '"step_kernel": "whole"' "$summary" ||
  { cat "$summary"; echo "FAIL: $model (whole): no finite training loss, or not the whole-network kernel"; exit 1; }
echo "ok: $model (whole): $(tail -n 1 "$tmp/out")"
