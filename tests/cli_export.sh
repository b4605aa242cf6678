#!/bin/bash
# cltrain export and predict end to end, against independent references:
#  - for every zoo model and tests/export/every_layer.model (every layer kind), a short
#    training run, then `predict` on 1,000 raw rows and `export` as ONNX (with and without
#    --raw-inputs), JSON and C;
#  - tests/export/check_onnx.py (Debian's python3-onnx): onnx.checker with full checks,
#    strict shape inference, a numpy evaluation of the graph, and onnxruntime when some
#    python has it: all equal predict's probabilities within 1e-5; the JSON tensors equal
#    the ONNX initializers;
#  - the generated C compiles with -std=c99 -Wall -Wextra -Werror -pedantic and its
#    probabilities equal predict's within 1e-5, raw and standardised inputs;
#  - predict on rows without labels; `test` writes roc.csv and the AUC into summary.json;
#  - bad input (not a checkpoint, unknown format, unwritable output): exit 2, one line.
set -u
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bad_input.sh"
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The python with onnx: Debian's (what scripts/bootstrap installs) first.
PY=""
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import onnx, numpy' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then echo "FAIL: no python3 with onnx and numpy (scripts/bootstrap installs python3-onnx)"; exit 1; fi
ORT=""
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import onnx, numpy, onnxruntime' 2>/dev/null; then ORT=$p; break; fi
done
[ -n "$ORT" ] || echo "note: onnxruntime not installed; the numpy evaluator alone checks the ONNX outputs"

# 1,000 rows in physical units with labels (the test split of 5,000 jets), and the same
# rows without the label column.
"$BIN" data export jsc-synth --synth-size 5000 --split test --raw --out "$tmp/raw.csv" --no-cache >/dev/null 2>&1 ||
  { echo "FAIL: data export"; exit 1; }
check '[ $(($(wc -l < "$tmp/raw.csv") - 1)) -eq 1000 ]' "raw.csv does not hold 1000 rows"
cut -d, -f1-16 "$tmp/raw.csv" > "$tmp/nolabel.csv"
tail -n +2 "$tmp/raw.csv" | cut -d, -f1-16 | tr , ' ' > "$tmp/raw.txt"
CC=${CC:-cc}

for model in jsc-tiny jsc-toy jsc-s jsc-trt "$HERE/export/every_layer.model"; do
  name=$(basename "$model" .model)
  d="$tmp/$name"
  mkdir -p "$d"
  "$BIN" train "$model" jsc-synth --synth-size 2000 --max-epochs 1 --batch-size 64 --learning-rate 1e-2 --log-every-n-steps 5 \
    --no-progress --quiet --project-dir "$d/runs" > "$d/train.out" 2>&1 ||
    { echo "FAIL: $name: train: $(tail -1 "$d/train.out")"; fail=1; continue; }
  ck=$(ls -d "$d"/runs/*/ | head -1)best.ckpt
  "$BIN" predict "$ck" "$tmp/raw.csv" --out "$d/preds.csv" > "$d/predict.out" 2>&1 ||
    { echo "FAIL: $name: predict: $(cat "$d/predict.out")"; fail=1; continue; }
  check '[ "$(head -1 "$d/preds.csv")" = "row,p_g,p_q,p_W,p_Z,p_t,predicted,true" ]' "$name: preds.csv header"
  # Without labels: the same probabilities, no true column; to stdout by default.
  "$BIN" predict "$ck" "$tmp/nolabel.csv" > "$d/preds_nolabel.csv" 2> "$d/nolabel.err"
  check '[ "$(head -1 "$d/preds_nolabel.csv")" = "row,p_g,p_q,p_W,p_Z,p_t,predicted" ]' "$name: unlabelled header"
  check '[ "$(cut -d, -f1-7 "$d/preds.csv" | tail -n +2)" = "$(tail -n +2 "$d/preds_nolabel.csv")" ]' \
    "$name: unlabelled predictions differ"
  for f in "onnx:model.onnx:" "onnx:model_raw.onnx:--raw-inputs" "json:model.json:" "c:cstd.c:" "c:craw.c:--raw-inputs"; do
    IFS=: read -r fmt out flag <<< "$f"
    "$BIN" export "$ck" --format "$fmt" --out "$d/$out" $flag > /dev/null 2> "$d/export.err" ||
      { echo "FAIL: $name: export $fmt $flag: $(cat "$d/export.err")"; fail=1; }
  done
  for c in cstd craw; do
    $CC -std=c99 -Wall -Wextra -Werror -pedantic -I"$d" -DHEADER="\"$c.h\"" -DPREDICT=${c}_predict \
      -o "$d/$c" "$HERE/export/c_driver.c" "$d/$c.c" -lm 2> "$d/$c.cc.err" ||
      { echo "FAIL: $name: generated C does not compile: $(head -3 "$d/$c.cc.err")"; fail=1; }
  done
  "$d/craw" < "$tmp/raw.txt" > "$d/craw.txt"
  layers=$(grep -Ev '^\s*(#|$|input)' "$(
    [ -f "$model" ] && echo "$model" || echo "$HERE/../models/$model.model")" | wc -l)
  args=(--raw-csv "$tmp/raw.csv" --preds "$d/preds.csv" --onnx "$d/model.onnx" --onnx-raw "$d/model_raw.onnx")
  "$PY" "$HERE/export/check_onnx.py" "${args[@]}" --json "$d/model.json" --model-lines "$layers" \
    --write-std "$d/std.txt" > "$d/check.out" 2>&1 ||
    { echo "FAIL: $name: $(grep -m3 FAIL "$d/check.out" || tail -3 "$d/check.out")"; fail=1; continue; }
  "$d/cstd" < "$d/std.txt" > "$d/cstd.txt"
  "$PY" "$HERE/export/check_onnx.py" "${args[@]}" --c-probs "$d/cstd.txt" --c-probs "$d/craw.txt" \
    > "$d/check_c.out" 2>&1 || { echo "FAIL: $name: C: $(grep -m3 FAIL "$d/check_c.out")"; fail=1; }
  if [ -n "$ORT" ]; then
    "$ORT" "$HERE/export/check_onnx.py" "${args[@]}" --ort > "$d/check_ort.out" 2>&1 ||
      { echo "FAIL: $name: onnxruntime: $(grep -m3 FAIL "$d/check_ort.out")"; fail=1; }
  fi
  echo "$name: $(grep -h 'max |p' "$d"/check*.out | sed 's/.*= //' | sort -g | tail -1) largest |p - predict|"
done

# ---- ROC and AUC from `cltrain test` ----
d="$tmp/jsc-toy"
run=$(ls -d "$d"/runs/*/ | head -1)
"$BIN" test jsc-toy jsc-synth --load "${run}best.ckpt" > "$d/test.out" 2>&1
check '[ "$(head -1 "${run}roc.csv")" = "class,threshold,signal_efficiency,background_efficiency,auc" ]' "roc.csv header"
check '[ "$(awk -F, "NR > 1 {print \$1}" "${run}roc.csv" | uniq | tr "\n" " ")" = "g q W Z t " ]' "roc.csv classes"
for c in g q W Z t; do
  check "[ \"\$(awk -F, '\$1 == \"$c\" {print \$3, \$4}' '${run}roc.csv' | head -1)\" = '0 0' ] &&
         [ \"\$(awk -F, '\$1 == \"$c\" {print \$3, \$4}' '${run}roc.csv' | tail -1)\" = '1 1' ]" "ROC of $c not from (0,0) to (1,1)"
  check "grep -Eq '^  \"test_auc_$c\": 0\\.[0-9]+,$' '${run}summary.json'" "summary.json lacks test_auc_$c"
done
check 'grep -q "^AUC (one class against the rest): g 0\.[0-9]* q" "$d/test.out"' "test prints no AUC line"
# `cltrain plot` draws it (figure roc, whose CSV is roc.csv itself, left unchanged).
cp "${run}roc.csv" "$tmp/roc_before.csv"
"$BIN" plot "$run" > "$d/plot.out" 2>&1
check 'grep -q "^figure roc:" "$d/plot.out" || grep -q "gnuplot" "$d/plot.out"' "plot drew no roc figure: $(tail -1 "$d/plot.out")"
if command -v gnuplot > /dev/null; then check '[ -s "${run}roc.png" ] && [ -s "${run}roc.svg" ]' "no roc.png/svg"; fi
check 'cmp -s "${run}roc.csv" "$tmp/roc_before.csv"' "plot changed roc.csv"

# `test` on another data set standardises it with the checkpoint's statistics, as predict
# does: on the 1,000 rows of raw.csv (the test split of 5,000 jets) both count the same
# correct rows (one may differ: test recovers raw values from the data set's own scaling
# in float, which can move a near-tie).
t=$("$BIN" test jsc-toy jsc-synth --load "${run}best.ckpt" --synth-size 5000 --quiet 2>/dev/null)
tc=$(awk '{printf "%d", $2 * 1000 + 0.5}' <<< "$t")
pc=$(sed -n 's/.*accuracy [0-9.]* (\([0-9]*\) of 1000).*/\1/p' "$d/predict.out")
check '[ -n "$pc" ] && [ -n "$tc" ] && [ $((tc - pc)) -le 1 ] && [ $((pc - tc)) -le 1 ]' \
  "test on 5000 jets counts $tc correct, predict on its raw test rows $pc ($t)"

# A version 1 checkpoint (no standardisation stored) still loads: predict and test warn
# and go on, export without --raw-inputs warns, --raw-inputs is refused.
"$PY" "$HERE/export/make_v1.py" "${run}best.ckpt" "$tmp/v1.ckpt"
"$BIN" predict "$tmp/v1.ckpt" "$tmp/raw.csv" --out "$tmp/v1.csv" > /dev/null 2> "$tmp/v1.err"; rc=$?
check '[ $rc -eq 0 ] && grep -q "stores no standardisation statistics (format version 1)" "$tmp/v1.err"' \
  "predict of a version 1 checkpoint: exit $rc, $(cat "$tmp/v1.err")"
"$BIN" test jsc-toy jsc-synth --load "$tmp/v1.ckpt" --quiet > /dev/null 2> "$tmp/v1t.err"; rc=$?
check '[ $rc -eq 0 ] && grep -q "format version 1" "$tmp/v1t.err"' "test of a version 1 checkpoint: exit $rc"
"$BIN" export "$tmp/v1.ckpt" --format json --out "$tmp/v1.json" > /dev/null 2> "$tmp/v1e.err"; rc=$?
check '[ $rc -eq 0 ] && grep -q "format version 1" "$tmp/v1e.err" && grep -q "\"standardization\": null" "$tmp/v1.json"' \
  "export of a version 1 checkpoint: exit $rc"
p=$(bad_input_problem "stores no standardisation statistics" "$BIN" export "$tmp/v1.ckpt" --format c --raw-inputs --out "$tmp/v1.c")
check '[ -z "$p" ]' "export --raw-inputs of a version 1 checkpoint: $p"

# ---- bad input ----
echo "not a checkpoint" > "$tmp/junk.ckpt"
ck=$(ls -d "$tmp"/jsc-tiny/runs/*/ | head -1)best.ckpt
for c in "not a cltrain checkpoint|export $tmp/junk.ckpt --format json --out $tmp/x.json" \
         "not a cltrain checkpoint|predict $tmp/junk.ckpt $tmp/raw.csv" \
         "no-such.ckpt|export $tmp/no-such.ckpt" \
         "'tflite' is not onnx, json or c|export $ck --format tflite" \
         "cannot write $tmp/no/dir/m.onnx|export $ck --format onnx --out $tmp/no/dir/m.onnx" \
         "cannot write $tmp/no/dir/m.|export $ck --format c --out $tmp/no/dir/m.c" \
         "cannot write $tmp/no/dir/p.csv|predict $ck $tmp/raw.csv --out $tmp/no/dir/p.csv" \
         "missing feature column|predict $ck $tmp/jsc-tiny/preds.csv" \
         "needs CKPT and DATA|predict $ck" \
         "no-such.csv|predict $ck $tmp/no-such.csv" \
         "no-such-gpu|predict $ck $tmp/raw.csv --device no-such-gpu" \
         "--batch-size|predict $ck $tmp/raw.csv --batch-size 0" \
         "unknown option '--bogus'|export $ck --bogus"; do
  needle=${c%%|*}
  read -ra args <<< "${c#*|}"
  p=$(bad_input_problem "$needle" "$BIN" "${args[@]}")
  check '[ -z "$p" ]' "cltrain ${c#*|}: $p"
done

[ $fail -eq 0 ] && echo "cli_export: all checks passed"
exit $fail
