#!/usr/bin/env bash
# cltrain over MPI ranks (Open MPI's mpirun, as root with --allow-run-as-root,
# --oversubscribe on 2 cores, --quiet so that only cltrain's own lines reach stderr):
#  - a 4-point sweep on 2 ranks equals the same sweep in one process: identical metrics
#    in sweep.csv (same device kind, same seeds);
#  - without --device the ranks spread over PoCL's two devices (node-local rank mod
#    devices), and the runs are still identical;
#  - rank 0 killed (SIGKILL) in the middle of its first run ends the job; running the
#    same command again completes the sweep, every point once and equal to one process;
#  - lab1 --smoke on 2 ranks equals one process (every experiment's sweep.csv) and writes
#    one report;
#  - bad input gives one error line and exit 2 from the job, not a hang; a command that
#    runs in one process only (bench) is refused under mpirun the same way.
set -u
BIN=${1:?usage: cli_mpi.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
NAME=cli_mpi
. "$(dirname "$0")/mpi_common.sh"
# Results that must not depend on which process trained a point (train_s and samples/s do).
metrics() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print $c["learning_rate"] "," $c["final_val_acc"] "," $c["best_val_acc"] "," $c["test_acc"] "," $c["status"] }' "$1" |
    sort
}
SWEEP=(sweep jsc-tiny jsc-synth --synth-size 4000 --max-epochs 2 --batch-size 32 --learning-rate 1e-3
  --vary learning-rate=1e-3,1e-2,3e-3,5e-3 --no-plot --no-progress --quiet)

# ---- one process, the reference ----
"$BIN" "${SWEEP[@]}" --device 0 --out "$tmp/one" > "$tmp/one.log" 2>&1 || fail "one-process sweep: $(tail -3 "$tmp/one.log")"
[ "$(metrics "$tmp/one/sweep.csv" | grep -c ',finished$')" = 4 ] || fail "reference sweep: $(cat "$tmp/one/sweep.csv")"

# ---- two ranks, one device kind ----
"${MPI[@]}" -n 2 "$BIN" "${SWEEP[@]}" --device 0 --out "$tmp/two" > "$tmp/two.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "2-rank sweep exited $rc: $(tail -5 "$tmp/two.log")"
[ "$(metrics "$tmp/two/sweep.csv")" = "$(metrics "$tmp/one/sweep.csv")" ] ||
  fail "2 ranks differ from one process: $(metrics "$tmp/two/sweep.csv") vs $(metrics "$tmp/one/sweep.csv")"
grep -q "2 MPI ranks share the runs" "$tmp/two.log" || fail "no rank line: $(head -5 "$tmp/two.log")"
[ "$(ls -d "$tmp/two"/jsc-tiny_* | wc -l)" = 4 ] || fail "expected 4 run directories: $(ls "$tmp/two")"

# ---- two ranks on PoCL's two devices, chosen by node-local rank ----
POCL_DEVICES="pthread basic" "${MPI[@]}" -n 2 "$BIN" "${SWEEP[@]}" --out "$tmp/map" > "$tmp/map.log" 2>&1 ||
  fail "2-rank sweep on two devices: $(tail -5 "$tmp/map.log")"
grep -q "rank 0 of 2 (node-local 0 of 2) on device 0" "$tmp/map.log" &&
  grep -q "rank 1 of 2 (node-local 1 of 2) on device 1" "$tmp/map.log" ||
  fail "ranks not mapped to devices 0 and 1: $(grep rank "$tmp/map.log")"
[ "$(metrics "$tmp/map/sweep.csv")" = "$(metrics "$tmp/one/sweep.csv")" ] ||
  fail "ranks on two devices differ from one process: $(metrics "$tmp/map/sweep.csv")"

# ---- a rank killed mid-run, then the same command again ----
# Rank 0 (which also hands out the points) kills itself at step 150 of its first run (90
# steps per epoch: after its first checkpoint); mpirun then ends the job. Rank 0 always
# trains a point, since it takes its own without a message. MPMD syntax gives rank 0
# alone the test hook.
"${MPI[@]}" -n 1 env CLTRAIN_TEST_SIGNAL_AT_STEP=150:KILL "$BIN" "${SWEEP[@]}" --device 0 --out "$tmp/kill" : \
  -n 1 "$BIN" "${SWEEP[@]}" --device 0 --out "$tmp/kill" > "$tmp/kill1.log" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "the job with a killed rank exited 0"
[ -f "$tmp/kill/sweep.csv" ] && fail "sweep.csv written although a rank died"
"${MPI[@]}" -n 2 "$BIN" "${SWEEP[@]}" --device 0 --out "$tmp/kill" > "$tmp/kill2.log" 2>&1 ||
  fail "re-running the killed sweep: $(tail -5 "$tmp/kill2.log")"
# The killed run continued in its own directory from its last.ckpt: still 4 directories.
[ "$(ls -d "$tmp/kill"/jsc-tiny_* | wc -l)" = 4 ] || fail "the killed run was not continued in place: $(ls "$tmp/kill")"
grep -q "1 trained now, 3 done before\|2 trained now, 2 done before\|3 trained now, 1 done before" "$tmp/kill2.log" ||
  fail "the re-run should train only what the killed job left: $(tail -2 "$tmp/kill2.log")"
[ "$(metrics "$tmp/kill/sweep.csv")" = "$(metrics "$tmp/one/sweep.csv")" ] ||
  fail "sweep after a killed rank differs from one process: $(metrics "$tmp/kill/sweep.csv")"
[ "$(awk -F, 'NR > 1' "$tmp/kill/sweep.csv" | cut -d, -f1 | sort -u | wc -l)" = 4 ] ||
  fail "every point once: $(cat "$tmp/kill/sweep.csv")"

# ---- lab1 ----
"$BIN" lab1 --smoke --device 0 --out "$tmp/lab-one" > "$tmp/lab1.log" 2>&1 || fail "lab1 one process: $(tail -3 "$tmp/lab1.log")"
"${MPI[@]}" -n 2 "$BIN" lab1 --smoke --device 0 --out "$tmp/lab-two" > "$tmp/lab2.log" 2>&1 ||
  fail "lab1 on 2 ranks: $(tail -5 "$tmp/lab2.log")"
for csv in "$tmp"/lab-one/*/sweep.csv; do
  exp=$(basename "$(dirname "$csv")")
  n=$(head -1 "$csv" | tr ',' '\n' | grep -n '^best_val_acc$' | cut -d: -f1)
  [ "$(cut -d, -f2-"$n" "$csv" | sort)" = "$(cut -d, -f2-"$n" "$tmp/lab-two/$exp/sweep.csv" | sort)" ] ||
    fail "lab1 experiment $exp differs on 2 ranks"
done
[ -s "$tmp/lab-two/report.md" ] || fail "lab1 on 2 ranks wrote no report"
[ "$(grep -c 'report:' "$tmp/lab2.log")" = 1 ] || fail "lab1 report announced $(grep -c 'report:' "$tmp/lab2.log") times"

# ---- bad input: one line, exit 2, no hang ----
p=$(bad_input_problem "--max-epochs" "${MPI[@]}" -n 2 "$BIN" sweep jsc-tiny jsc-synth --max-epochs x \
  --vary batch-size=32 --out "$tmp/bad")
[ -z "$p" ] || fail "bad --max-epochs on 2 ranks: $p"
p=$(bad_input_problem "no-such-model" "${MPI[@]}" -n 2 "$BIN" sweep no-such-model jsc-synth --vary batch-size=32 \
  --out "$tmp/bad")
[ -z "$p" ] || fail "unknown model on 2 ranks: $p"
p=$(bad_input_problem "runs in one process" "${MPI[@]}" -n 2 "$BIN" bench jsc-tiny)
[ -z "$p" ] || fail "bench on 2 ranks: $p"
[ -e "$tmp/bad" ] && fail "bad input left $tmp/bad behind"

if [ $failures -gt 0 ]; then
  echo "cli_mpi: $failures failure(s)"
  exit 1
fi
echo "cli_mpi: all checks passed"
