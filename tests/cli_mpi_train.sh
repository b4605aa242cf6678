#!/usr/bin/env bash
# Data-parallel `train` and `compare` over MPI ranks (README "Clusters"), with Open MPI's
# mpirun (as root --allow-run-as-root, --oversubscribe on 2 cores, --quiet):
#  - jsc-trt (batch norm and dropout) for 2 epochs on 2 ranks against one process at the
#    same global batch on the same device kind. Tolerances (float summation order only,
#    measured: README "Clusters"):
#      train_loss of every metrics.csv / epochs.csv row: relative 1e-5 (measured <= 1e-7:
#        the same masks, statistics and gradients, summed in another order);
#      train_acc: at most 2 of the 256 rows of a logged batch flip (measured: none);
#      val_loss relative 2e-3, val_acc within 0.005 (8 of 1600 rows; measured 1.2e-4 and
#        1 row): evaluation uses the running means, which follow the biases below;
#      final weights: every tensor relative 1e-4 (denominator at least 1e-2; measured
#        1.6e-6) except the bias of a Linear directly before a batch norm: its gradient is
#        0 in exact arithmetic (the batch norm subtracts the mean), so its float value is
#        rounding noise that Adam scales to steps of about the learning rate. That bias and
#        the running mean it feeds wander apart between the two runs (measured 7e-3);
#        what evaluation uses, bias - running mean, agrees within 1e-2 (measured 1e-3);
#  - interrupted at step 30 on both ranks and resumed on 2 ranks: every logged value
#    equals the uninterrupted 2-rank run exactly (the same sums in the same order);
#  - --resume with another rank count (or in one process): one line, exit 2;
#  - bad input on one rank only (a device index it does not have): one line from the
#    job, exit 2, no hang and no run directory; a runtime failure on rank 0 only (a full
#    disk under its checkpoint, tests/enospc_shim.c): one line, exit 1, summary "failed";
#  - compare --devices basic,pthread on 2 ranks (one device each) writes the same
#    compare.csv columns, devices, statuses and accuracies as one process.
set -u
BIN=${1:?usage: cli_mpi_train.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
NAME=cli_mpi_train
. "$(dirname "$0")/mpi_common.sh"
TRAIN=(train jsc-trt jsc-synth --synth-size 20000 --max-epochs 2 --batch-size 256 --learning-rate 1e-3
  --log-every-n-steps 10 --device 0 --no-progress --quiet)

# ---- one process, the reference; 2 ranks ----
"$BIN" "${TRAIN[@]}" --project-dir "$tmp/one" > "$tmp/one.log" 2>&1 || fail "one process: $(tail -3 "$tmp/one.log")"
"${MPI[@]}" -n 2 "$BIN" "${TRAIN[@]}" --project-dir "$tmp/two" > "$tmp/two.log" 2>&1 ||
  fail "2 ranks: $(tail -5 "$tmp/two.log")"
one=$(ls -d "$tmp"/one/jsc-trt_* 2> /dev/null | head -1)
two=$(ls -d "$tmp"/two/jsc-trt_* 2> /dev/null | head -1)
[ "$(ls "$tmp/two" | wc -l)" = 1 ] || fail "2 ranks made $(ls "$tmp/two" | wc -l) run directories (rank 0 alone writes)"
[ "$(grep -c '^run ' "$tmp/two.log")" = 1 ] || fail "the outcome line came $(grep -c '^run ' "$tmp/two.log") times"
grep -q '"status": *"finished"' "$two/summary.json" || fail "2-rank summary.json: $(head -c 300 "$two/summary.json")"

# CSV columns by name: FILE COLUMN -> one value per row
col() { awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$1"; }
# within A-FILE B-FILE COLUMN KIND TOL: every row's values agree (KIND rel or abs)
within() {
  paste -d' ' <(col "$1" "$3") <(col "$2" "$3") | awk -v kind="$4" -v tol="$5" -v c="$3" '
    { d = $1 - $2; if (d < 0) d = -d; if (kind == "rel") { m = $1 < 0 ? -$1 : $1; d = d / (m > 1e-30 ? m : 1) }
      if (d > worst) worst = d; n++ }
    END { if (n == 0) { print c ": no rows"; exit 1 } if (worst > tol) { printf "%s: worst %s difference %.3g > %g\n", c, kind, worst, tol; exit 1 } }'
}
if [ -n "$one" ] && [ -n "$two" ]; then
  [ "$(col "$one/metrics.csv" step)" = "$(col "$two/metrics.csv" step)" ] || fail "metrics.csv steps differ"
  for check in "metrics.csv train_loss rel 1e-5" "metrics.csv train_acc abs 0.0079" "epochs.csv train_loss rel 1e-5" \
    "epochs.csv train_acc abs 0.0005" "epochs.csv val_loss rel 2e-3" "epochs.csv val_acc abs 0.005"; do
    set -- $check
    p=$(within "$one/$1" "$two/$1" "$2" "$3" "$4") || fail "2 ranks vs one process, $1 $p"
  done
  "$BIN" export "$one/last.ckpt" --format json --out "$tmp/one.json" > /dev/null 2>&1 &&
    "$BIN" export "$two/last.ckpt" --format json --out "$tmp/two.json" > /dev/null 2>&1 || fail "export of the weights"
  p=$(python3 - "$tmp/one.json" "$tmp/two.json" << 'PY'
import json, sys
a, b = (json.load(open(p))["tensors"] for p in sys.argv[1:3])
if isinstance(a, list):
    a = {t["name"]: t for t in a}; b = {t["name"]: t for t in b}
def values(t):
    t = t.get("values", t.get("data")) if isinstance(t, dict) else t
    return sum((values(x) for x in t), []) if isinstance(t, list) else [t]
layers = json.load(open(sys.argv[1]))["layers"]
# the Linear biases feeding a batch norm, with the running mean they feed
pairs = {}
for i, L in enumerate(layers[:-1]):
    if L["kind"] == "linear" and layers[i + 1]["kind"] == "batchnorm":
        bias = [t for t in L["tensors"] if t.endswith("_bias")][0]
        pairs[bias] = [t for t in layers[i + 1]["tensors"] if t.endswith("_running_mean")][0]
skip = set(pairs) | set(pairs.values())
bad = []
for name in a:
    if name in skip: continue
    x, y = values(a[name]), values(b[name])
    worst = max(abs(p - q) / max(abs(p), 1e-2) for p, q in zip(x, y))
    if worst > 1e-4: bad.append("%s relative %.3g" % (name, worst))
for bias, mean in pairs.items():
    x = [p - q for p, q in zip(values(a[bias]), values(a[mean]))]
    y = [p - q for p, q in zip(values(b[bias]), values(b[mean]))]
    worst = max(abs(p - q) for p, q in zip(x, y))
    if worst > 1e-2: bad.append("%s - %s: %.3g" % (bias, mean, worst))
if not pairs: bad.append("no Linear before a batch norm found in the export")
print("; ".join(bad))
PY
)
  [ -z "$p" ] || fail "final weights, 2 ranks vs one process: $p"
fi

# ---- interrupted on both ranks at step 30, resumed on 2 ranks: exactly the 2-rank run ----
CLTRAIN_TEST_SIGNAL_AT_STEP=30 "${MPI[@]}" -x CLTRAIN_TEST_SIGNAL_AT_STEP -n 2 "$BIN" "${TRAIN[@]}" \
  --project-dir "$tmp/int" > "$tmp/int.log" 2>&1
rc=$?
[ $rc -eq 130 ] || fail "interrupted 2-rank run exited $rc, want 130: $(tail -3 "$tmp/int.log")"
grep -q "continue with: mpirun -n 2 cltrain train --resume" "$tmp/int.log" || fail "no resume hint: $(tail -3 "$tmp/int.log")"
ckpt=$(ls "$tmp"/int/jsc-trt_*/last.ckpt 2> /dev/null | head -1)
if [ -n "$ckpt" ]; then
  "${MPI[@]}" -n 2 "$BIN" train --resume "$ckpt" --quiet --no-progress > "$tmp/res.log" 2>&1 ||
    fail "resume on 2 ranks: $(tail -3 "$tmp/res.log")"
  d=$(dirname "$ckpt")
  [ "$(cut -d, -f1-4 "$d/metrics.csv")" = "$(cut -d, -f1-4 "$two/metrics.csv")" ] &&
    [ "$(cut -d, -f1-6 "$d/epochs.csv")" = "$(cut -d, -f1-6 "$two/epochs.csv")" ] ||
    fail "interrupted + resumed differs from the uninterrupted 2-rank run"
  # ---- --resume with another number of ranks ----
  p=$(bad_input_problem "over 2 ranks; this job has 3" "${MPI[@]}" -n 3 "$BIN" train --resume "$ckpt" --quiet)
  [ -z "$p" ] || fail "resume on 3 ranks: $p"
  p=$(bad_input_problem "over 2 ranks; this job has 1" "$BIN" train --resume "$ckpt" --quiet)
  [ -z "$p" ] || fail "resume in one process: $p"
else
  fail "the interrupted run left no last.ckpt: $(ls -R "$tmp/int")"
fi
[ -n "$one" ] && p=$(bad_input_problem "trained in one process" "${MPI[@]}" -n 2 "$BIN" train --resume "$one/last.ckpt" \
  --quiet) && [ -z "$p" ] || fail "one-process run resumed on 2 ranks: ${p:-no checkpoint}"

# ---- bad input on one rank only: a device index rank 1 does not have ----
p=$(bad_input_problem "device '5'" "${MPI[@]}" -n 1 "$BIN" "${TRAIN[@]}" --project-dir "$tmp/bad" : \
  -n 1 "$BIN" "${TRAIN[@]}" --device 5 --project-dir "$tmp/bad")
[ -z "$p" ] || fail "bad device on rank 1: $p"
[ -e "$tmp/bad" ] && fail "bad input on one rank left $tmp/bad behind"

# ---- a runtime failure on rank 0 only (its checkpoint write hits a full disk): one line,
# exit 1 from the job, the run's summary says failed ----
shim=${CLTRAIN_ENOSPC_SHIM:-$(dirname "$BIN")/libenospc_shim.so}
if [ -f "$shim" ]; then
  "${MPI[@]}" -n 1 env LD_PRELOAD="$shim" ENOSPC_SHIM_SUFFIX=.ckpt.tmp ENOSPC_SHIM_BYTES=1000 \
    ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" "$BIN" "${TRAIN[@]}" --project-dir "$tmp/full" : \
    -n 1 "$BIN" "${TRAIN[@]}" --project-dir "$tmp/full" > /dev/null 2> "$tmp/full.err"
  rc=$?
  [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/full.err")" = 1 ] && grep -q "No space left on device" "$tmp/full.err" ||
    fail "full disk on rank 0: exit $rc, stderr: $(cat "$tmp/full.err")"
  grep -q '"status": *"failed"' "$tmp"/full/jsc-trt_*/summary.json 2> /dev/null || fail "full disk: summary not failed"
else
  echo "cli_mpi_train: no ENOSPC shim at $shim: the full-disk case is skipped"
fi

# ---- compare: one listed device per rank ----
CMP=(compare jsc-tiny jsc-synth --synth-size 4000 --max-epochs 2 --batch-size 64 --devices basic,pthread --no-plot
  --quiet --no-progress)
POCL_DEVICES="pthread basic" "$BIN" "${CMP[@]}" --out "$tmp/cmp1" > "$tmp/cmp1.log" 2>&1 ||
  fail "compare in one process: $(tail -3 "$tmp/cmp1.log")"
POCL_DEVICES="pthread basic" "${MPI[@]}" -x POCL_DEVICES -n 2 "$BIN" "${CMP[@]}" --out "$tmp/cmp2" > "$tmp/cmp2.log" 2>&1 ||
  fail "compare on 2 ranks: $(tail -3 "$tmp/cmp2.log")"
grep -q "2 MPI ranks share the 2 device runs" "$tmp/cmp2.log" || fail "no rank line: $(head -3 "$tmp/cmp2.log")"
same_cols() { awk -F, '{ print $1 "," $6 "," $7 "," $9 "," $10 }' "$1"; } # device, launches per step, val acc, status, error
[ "$(head -1 "$tmp/cmp2/compare.csv")" = "$(head -1 "$tmp/cmp1/compare.csv")" ] &&
  [ "$(same_cols "$tmp/cmp2/compare.csv")" = "$(same_cols "$tmp/cmp1/compare.csv")" ] ||
  fail "compare on 2 ranks differs: $(cat "$tmp/cmp2/compare.csv") vs $(cat "$tmp/cmp1/compare.csv")"
[ "$(ls -d "$tmp"/cmp2/jsc-tiny_* | wc -l)" = 2 ] || fail "compare on 2 ranks: $(ls "$tmp/cmp2")"

if [ $failures -gt 0 ]; then
  echo "cli_mpi_train: $failures failure(s)"
  exit 1
fi
echo "cli_mpi_train: all checks passed"
