#!/bin/bash
# Faults a run must survive without losing anything:
#  - SIGKILL (a crash, nothing saved) in the middle of an epoch and right before an epoch
#    end, then --resume: the rows logged after the checkpoint (and a stray epoch row and a
#    half-written line) are dropped, and the resumed run ends with exactly the rows and
#    values of an uninterrupted run (no duplicated or missing step);
#  - kill -9 from outside at an arbitrary moment of a longer run, then --resume: every
#    step and epoch logged exactly once, the run finished;
#  - a full disk (a 512 KiB tmpfs where mount is allowed; an LD_PRELOAD shim that fails the
#    checkpoint's writes with ENOSPC everywhere): the run stops with one error line
#    (exit 1, no signal), last.ckpt is byte for byte the previous one and still loads,
#    no temporary file is left, and once there is space --resume finishes the run;
#  - a checkpoint of another model is refused by train --load, train --resume and test,
#    with a message naming both models;
#  - symlinks planted at a run's temporary names are never followed; damaged HDF5
#    metadata is refused in bounded memory; a second sweep or compare on a held --out is
#    refused; SIGTERM during a long compile ends the run within seconds, marked
#    interrupted (issue 15).
set -u
BIN=$(realpath "$1")
SHIM=${CLTRAIN_ENOSPC_SHIM:-}
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }
tmp=$(mktemp -d)
mnt=""
cleanup() { [ -z "$mnt" ] || umount "$mnt" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# 4000 jets: 2880 train rows = 45 steps of 64 per epoch.
COMMON=(jsc-tiny jsc-synth --synth-size 4000 --max-epochs 3 --batch-size 64 --learning-rate 1e-2
        --log-every-n-steps 10 --no-progress --quiet)
col() { awk -F, -v c="$2" 'NR > 1 {print $c}' "$1"; }
json() { sed -n "s/^  \"$2\": \\(.*\\)$/\\1/p" "$1" | sed 's/,$//; s/"//g'; }
run_dir() { ls -d "$1"/*/ 2>/dev/null | head -1 | sed 's:/$::'; }
ckpt_step() { "$BIN" test jsc-tiny jsc-synth --load "$1" 2>/dev/null | sed -n 's/.*, step \([0-9]*\),.*/\1/p'; }
# Every logged step once, in order: metrics steps 10, 20, ... up to $2; epochs 0..$3-1.
rows_exact() { # RUN_DIR LAST_STEP EPOCHS [LOG_EVERY]
  local every=${4:-10}
  [ "$(col "$1/metrics.csv" 1 | tr '\n' ' ')" = "$(seq "$every" "$every" "$2" | tr '\n' ' ')" ] &&
  [ "$(col "$1/epochs.csv" 1 | tr '\n' ' ')" = "$(seq 0 $(($3 - 1)) | tr '\n' ' ')" ]
}
same_as_reference() { # RUN_DIR: per-step values and validation columns equal the uninterrupted run's
  diff <(cut -d, -f1-5 "$A/metrics.csv") <(cut -d, -f1-5 "$1/metrics.csv") > /dev/null &&
  diff <(cut -d, -f1,2,5,6,7 "$A/epochs.csv") <(cut -d, -f1,2,5,6,7 "$1/epochs.csv") > /dev/null &&
  [ "$(json "$A/summary.json" test_acc)" = "$(json "$1/summary.json" test_acc)" ]
}

# ---- the uninterrupted reference ----
"$BIN" train "${COMMON[@]}" --project-dir "$tmp/a" > /dev/null 2> "$tmp/a.err"; rc=$?
check '[ $rc -eq 0 ]' "reference run exit $rc: $(cat "$tmp/a.err")"
A=$(run_dir "$tmp/a")

# ---- SIGKILL at step 62 (epoch 1 of 0..2; last checkpoint after step 45) ----
# (in a subshell whose stderr is closed: the shell's "Killed" notice is noise here)
(CLTRAIN_TEST_SIGNAL_AT_STEP=62:KILL "$BIN" train "${COMMON[@]}" --project-dir "$tmp/b" > /dev/null; exit $?) 2> /dev/null
rc=$?
check '[ $rc -eq 137 ]' "SIGKILL run exit $rc, want 137"
B=$(run_dir "$tmp/b")
check '[ "$(col "$B/metrics.csv" 1 | tail -1)" = 60 ]' "rows logged after the checkpoint are on disk before resuming"
check '[ "$(json "$B/summary.json" status)" = running ]' "a crashed run is not marked $(json "$B/summary.json" status)"
check '[ "$(ckpt_step "$B/last.ckpt")" = 45 ]' "last.ckpt of the crashed run is not the one of step 45"
# What a crash between an epoch row and its checkpoint, and one in the middle of a write, leave:
sed -n 2p "$A/epochs.csv" | sed 's/^0,45,/1,90,/' >> "$B/epochs.csv"
printf '70,1,0.5' >> "$B/metrics.csv"
"$BIN" train --resume "$B/last.ckpt" --no-progress --quiet > /dev/null 2> "$tmp/b2.err"; rc=$?
check '[ $rc -eq 0 ]' "resume after SIGKILL exit $rc: $(cat "$tmp/b2.err")"
check 'rows_exact "$B" 130 3' "rows after SIGKILL + resume: steps $(col "$B/metrics.csv" 1 | tr '\n' ' ') epochs $(col "$B/epochs.csv" 1 | tr '\n' ' ')"
check 'same_as_reference "$B"' "SIGKILL + resume differs from the uninterrupted run"
check '[ "$(json "$B/summary.json" status)" = finished ]' "resumed run status $(json "$B/summary.json" status)"

# ---- SIGKILL at step 90, the last step of epoch 1, before its validation and checkpoint ----
(CLTRAIN_TEST_SIGNAL_AT_STEP=90:KILL "$BIN" train "${COMMON[@]}" --project-dir "$tmp/c" > /dev/null; exit $?) 2> /dev/null
rc=$?
check '[ $rc -eq 137 ]' "SIGKILL at step 90 exit $rc"
C=$(run_dir "$tmp/c")
"$BIN" train --resume "$C/last.ckpt" --quiet > /dev/null 2> "$tmp/c2.err"; rc=$?
check '[ $rc -eq 0 ] && rows_exact "$C" 130 3 && same_as_reference "$C"' \
  "resume after SIGKILL at step 90 (exit $rc): $(cat "$tmp/c2.err")"

# ---- kill -9 from outside, whenever it lands (after epoch 2 of 20) ----
# 14400 train rows, 450 steps of 32 per epoch: long enough for the kill to land mid-run.
LONG=(jsc-tiny jsc-synth --synth-size 20000 --max-epochs 20 --batch-size 32 --learning-rate 1e-2
      --log-every-n-steps 25 --no-progress --quiet --project-dir "$tmp/d")
"$BIN" train "${LONG[@]}" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1200); do
  D=$(run_dir "$tmp/d")
  [ -n "$D" ] && [ "$(col "$D/epochs.csv" 1 2>/dev/null | wc -l)" -ge 2 ] && break
  sleep 0.05
done
sleep 0.$((RANDOM % 5))
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null; rc=$?
D=$(run_dir "$tmp/d")
if [ $rc -eq 137 ]; then
  "$BIN" train --resume "$D/last.ckpt" --quiet > /dev/null 2> "$tmp/d2.err"; rc=$?
  check '[ $rc -eq 0 ]' "resume after kill -9 exit $rc: $(cat "$tmp/d2.err")"
else
  echo "note: the run ended (exit $rc) before kill -9 reached it; checking its rows only"
fi
check 'rows_exact "$D" 9000 20 25' "kill -9 + resume: steps $(col "$D/metrics.csv" 1 | tr '\n' ' ') epochs $(col "$D/epochs.csv" 1 | tr '\n' ' ')"
check '[ "$(col "$D/epochs.csv" 2 | tr "\n" " ")" = "$(seq 450 450 9000 | tr "\n" " ")" ]' "kill -9 + resume: epoch steps"
check '[ "$(json "$D/summary.json" status)" = finished ]' "kill -9 + resume: status $(json "$D/summary.json" status)"

# ---- a run another process is writing cannot be resumed a second time ----
# (flock(1) holds the run directory's lock as a training cltrain does)
if command -v flock > /dev/null; then
  cp -r "$A" "$tmp/locked-run"
  err=$(flock "$tmp/locked-run" "$BIN" train --resume "$tmp/locked-run/last.ckpt" --max-epochs 4 --quiet 2>&1 >/dev/null); rc=$?
  check '[ $rc -eq 2 ] && [ "$(printf "%s\n" "$err" | grep -vc "^cltrain: warning: ")" = 1 ] &&
         printf "%s" "$err" | grep -q "is in use by another cltrain process"' "second writer of a run: exit $rc: $err"
  check 'diff -r "$A" "$tmp/locked-run" > /dev/null' "a refused second writer changed the run"
fi

# ---- a full disk ----
# Resume RUN_DIR for one more epoch under a full disk (the command prefix in "$@"), then
# with space again. Checks what the brief promises either way.
disk_full_case() { # LABEL MODEL RUN_DIR EPOCHS_BEFORE -- PREFIX...
  local label=$1 model=$2 dir=$3 before=$4; shift 5
  cp "$dir/last.ckpt" "$tmp/good.ckpt"
  "$@" "$BIN" train --resume "$dir/last.ckpt" --max-epochs $((before + 1)) --quiet > /dev/null 2> "$tmp/full.err"; rc=$?
  check '[ $rc -eq 1 ]' "$label: exit $rc, want 1: $(cat "$tmp/full.err")"
  # (--max-epochs changed: one warning line says so; then one error line)
  check '[ "$(grep -vc "^cltrain: warning: --resume with a different --max-epochs" "$tmp/full.err")" = 1 ] &&
         grep -q "^cltrain: error: .*No space left on device" "$tmp/full.err"' \
    "$label: not one error line naming ENOSPC: $(cat "$tmp/full.err")"
  check 'cmp -s "$dir/last.ckpt" "$tmp/good.ckpt"' "$label: last.ckpt changed"
  check '[ -z "$(ls "$dir" | grep "\.tmp$")" ]' "$label: temporary files left: $(ls "$dir")"
  check '"$BIN" test "$model" jsc-synth --load "$dir/last.ckpt" --quiet 2> /dev/null | grep -q "^test_acc "' "$label: last.ckpt does not load"
  check '[ "$(json "$dir/summary.json" status)" != finished ]' "$label: run marked finished"
}
after_space_freed() { # LABEL RUN_DIR EPOCHS
  local label=$1 dir=$2 epochs=$3 rc
  "$BIN" train --resume "$dir/last.ckpt" --max-epochs "$epochs" --quiet > /dev/null 2> "$tmp/free.err"; rc=$?
  check '[ $rc -eq 0 ] && [ "$(json "$dir/summary.json" status)" = finished ]' \
    "$label: resume with space again exit $rc: $(cat "$tmp/free.err")"
  check '[ "$(col "$dir/epochs.csv" 1 | tr "\n" " ")" = "$(seq 0 $((epochs - 1)) | tr "\n" " ")" ]' \
    "$label: epochs after resume: $(col "$dir/epochs.csv" 1 | tr '\n' ' ')"
  check '[ -z "$(col "$dir/metrics.csv" 1 | uniq -d)" ]' "$label: duplicated metrics steps"
}

mkdir -p "$tmp/full"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=512k cltrain-test "$tmp/full" 2> /dev/null; then
  mnt=$tmp/full
  # jsc-s: a checkpoint of ~70 KiB, far more than the two pages left free below, which
  # are room enough for the CSV rows and config.txt of the resumed session.
  "$BIN" train jsc-s jsc-synth --synth-size 4000 --max-epochs 1 --batch-size 64 --learning-rate 1e-3 \
    --log-every-n-steps 10 --quiet --no-progress --project-dir "$mnt" > /dev/null 2>&1
  F=$(run_dir "$mnt")
  dd if=/dev/zero of="$mnt/reserve" bs=4096 count=2 2> /dev/null
  dd if=/dev/zero of="$mnt/filler" bs=4096 2> /dev/null   # until the disk is full
  rm "$mnt/reserve"
  disk_full_case "tmpfs full" jsc-s "$F" 1 -- env
  rm "$mnt/filler"
  after_space_freed "tmpfs full" "$F" 2
  # Not one free page: --resume cannot even rewrite the CSV files. It must say so, keep
  # them and the checkpoint as they were, and leave no temporary file.
  cp "$F/metrics.csv" "$F/epochs.csv" "$F/last.ckpt" "$tmp/"
  dd if=/dev/zero of="$mnt/filler" bs=4096 2> /dev/null
  "$BIN" train --resume "$F/last.ckpt" --max-epochs 3 --quiet > /dev/null 2> "$tmp/full0.err"; rc=$?
  check '[ $rc -eq 1 ] || [ $rc -eq 2 ]' "no space at all: exit $rc, want 1 or 2: $(cat "$tmp/full0.err")"
  check '[ "$(grep -vc "^cltrain: warning: " "$tmp/full0.err")" = 1 ] && grep -q "No space left on device" "$tmp/full0.err"' \
    "no space at all: not one error line naming ENOSPC: $(cat "$tmp/full0.err")"
  check 'cmp -s "$F/metrics.csv" "$tmp/metrics.csv" && cmp -s "$F/epochs.csv" "$tmp/epochs.csv" && cmp -s "$F/last.ckpt" "$tmp/last.ckpt"' \
    "no space at all: the run's files changed"
  check '[ -z "$(ls "$F" | grep "\.tmp$")" ]' "no space at all: temporary files left: $(ls "$F")"
  rm "$mnt/filler"
  after_space_freed "tmpfs full, then freed" "$F" 3
else
  echo "note: cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN): the shim case stands in"
fi
if [ -n "$SHIM" ] && [ -f "$SHIM" ]; then
  cp -r "$A" "$tmp/shim-run"
  # (an AddressSanitizer build wants its runtime first in the library list; the shim only
  # wraps open/close/write, so the order does not matter here)
  disk_full_case "ENOSPC shim" jsc-tiny "$tmp/shim-run" 3 -- env LD_PRELOAD="$SHIM" ENOSPC_SHIM_SUFFIX=.ckpt.tmp \
    ENOSPC_SHIM_BYTES=1000 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
  # Only checkpoints were refused: summary.json says what became of the run.
  check '[ "$(json "$tmp/shim-run/summary.json" status)" = failed ] &&
         json "$tmp/shim-run/summary.json" error | grep -q "No space left on device"' \
    "ENOSPC shim: summary.json does not record the failure: $(cat "$tmp/shim-run/summary.json")"
  after_space_freed "ENOSPC shim" "$tmp/shim-run" 4
else
  check 'false' "no ENOSPC shim (CLTRAIN_ENOSPC_SHIM=$SHIM)"
fi

# ---- a checkpoint of another model ----
expect_usage() { # NEEDLE ARGS...
  local needle=$1; shift
  local err rc
  err=$("$BIN" "$@" 2>&1 >/dev/null); rc=$?
  check '[ $rc -eq 2 ] && [ "$(printf "%s\n" "$err" | grep -c .)" = 1 ] && printf "%s" "$err" | grep -qF -- "$needle"' \
    "'$*': exit $rc, want 2 and one line with '$needle': $err"
}
both="holds model 'jsc-tiny' (117 parameters), not 'jsc-toy' (327 parameters)"
expect_usage "$both" train jsc-toy jsc-synth --synth-size 4000 --load "$A/last.ckpt" --project-dir "$tmp/x"
expect_usage "$both" train jsc-toy jsc-synth --resume "$A/last.ckpt"
expect_usage "$both" test jsc-toy jsc-synth --load "$A/last.ckpt"
mkdir "$tmp/mine"
printf 'input 16\nbatchnorm\nrelu\nlinear 8\nrelu\nlinear 5\n' > "$tmp/mine/jsc-tiny.model"
expect_usage "holds model 'jsc-tiny' (117 parameters), not 'jsc-tiny' (213 parameters)" \
  test "$tmp/mine/jsc-tiny.model" jsc-synth --load "$A/last.ckpt"
check '[ ! -e "$tmp/x" ]' "a refused run left a project directory"
expect_usage "no-such-gpu" test jsc-tiny jsc-synth --load "$A/last.ckpt" --device no-such-gpu

# ---- hostile files and concurrent writers (issue 15) ----
# Symlinks planted at every temporary name of a run: never followed, the targets stay
# absent, the run's files stay regular files.
cp -r "$A" "$tmp/sym-run"
for f in last.ckpt best.ckpt summary.json config.txt metrics.csv epochs.csv; do
  ln -s "$tmp/victim-$f" "$tmp/sym-run/$f.tmp"
done
"$BIN" train --resume "$tmp/sym-run/last.ckpt" --max-epochs 4 --quiet > /dev/null 2> "$tmp/sym.err"; rc=$?
check '[ $rc -eq 0 ]' "resume with symlinks planted at the temporary names: exit $rc: $(cat "$tmp/sym.err")"
check '[ -z "$(ls "$tmp" | grep victim-)" ]' "a planted symlink was written through: $(ls "$tmp" | grep victim-)"
for f in last.ckpt summary.json config.txt metrics.csv epochs.csv; do
  check '[ -f "$tmp/sym-run/$f" ] && [ ! -L "$tmp/sym-run/$f" ]' "$f is not a regular file after the resume"
done
check '[ "$(json "$tmp/sym-run/summary.json" status)" = finished ]' "symlink run not finished"

# Damaged HDF5 metadata (tests/hdf5_craft.c): refused with one line, before any large
# allocation (a 25M-row count used to cost 2 GB; a wrapped one overran a 68-byte buffer;
# a bad member offset or precision crashed inside libhdf5's converters).
CRAFT=${CLTRAIN_HDF5_CRAFT:-}
if [ -n "$CRAFT" ] && [ -x "$CRAFT" ]; then
  for kind in rows-wrap:"declares" rows-25m:"declares 25000000 rows" bad-offset:"lies outside its" \
              bad-precision:"is not a standard 1-8 byte integer"; do
    "$CRAFT" "${kind%%:*}" "$tmp/${kind%%:*}.h5" || check false "hdf5_craft ${kind%%:*} failed"
    /usr/bin/time -f %M -o "$tmp/rss" "$BIN" data info "$tmp/${kind%%:*}.h5" --no-cache > /dev/null 2> "$tmp/h5.err"; rc=$?
    check '[ $rc -eq 2 ] && [ "$(grep -c . "$tmp/h5.err")" = 1 ] && grep -qF -- "${kind#*:}" "$tmp/h5.err"' \
      "HDF5 ${kind%%:*}: exit $rc, want 2 and one line with '${kind#*:}': $(cat "$tmp/h5.err")"
    check '[ "$(tail -1 "$tmp/rss")" -lt 1000000 ]' "HDF5 ${kind%%:*}: peak RSS $(tail -1 "$tmp/rss") KiB"
  done
else
  check false "no hdf5_craft helper (CLTRAIN_HDF5_CRAFT=$CRAFT)"
fi
# A file on which libhdf5 1.10 itself crashes (found by fuzz_hdf5): the loader's child
# process dies, the command refuses the file (the ASan build may add its report).
"$BIN" data info "$CLTRAIN_SOURCE_DIR/tests/data/hdf5-damaged-libhdf5-crash.h5" --no-cache > /dev/null 2> "$tmp/h5.err"; rc=$?
check '[ $rc -eq 2 ] && [ "$(grep -c "^cltrain: error: " "$tmp/h5.err")" = 1 ] && grep -q "the HDF5 library \(crashed\|failed\) reading" "$tmp/h5.err"' \
  "HDF5 file that crashes libhdf5: exit $rc: $(grep cltrain "$tmp/h5.err")"

# A sweep or compare output folder another process holds (flock(1) stands in for a
# running sweep): refused with exit 2, no run trained.
if command -v flock > /dev/null; then
  mkdir -p "$tmp/sw-locked" "$tmp/cmp-locked"
  err=$(flock "$tmp/sw-locked" "$BIN" sweep jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --vary seed=1,2 \
        --out "$tmp/sw-locked" --quiet 2>&1 >/dev/null); rc=$?
  check '[ $rc -eq 2 ] && printf "%s" "$err" | grep -q "is in use by another cltrain process"' "second sweep on one --out: exit $rc: $err"
  check '[ -z "$(ls "$tmp/sw-locked")" ]' "a refused sweep trained: $(ls "$tmp/sw-locked")"
  err=$(flock "$tmp/cmp-locked" "$BIN" compare jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --devices 0 \
        --out "$tmp/cmp-locked" --quiet 2>&1 >/dev/null); rc=$?
  check '[ $rc -eq 2 ] && printf "%s" "$err" | grep -q "is in use by another cltrain process"' "second compare on one --out: exit $rc: $err"
fi

# SIGTERM while the kernels compile before the first step (net_warm_up; a cold PoCL cache:
# ~30 s for CLBlast): no handler is installed yet, so the process ends at once with 143
# and, a fresh run, leaves no run directory. (A compile inside the loop, which the warm-up
# leaves none of, would be ended by the watchdog of base/interrupt.h after 3 s.)
cold=$(mktemp -d)
POCL_CACHE_DIR=$cold "$BIN" train jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --no-progress \
  --project-dir "$tmp/cold" > "$tmp/cold.out" 2> "$tmp/cold.err" &
pid=$!
for _ in $(seq 1200); do grep -q "^compiling kernels" "$tmp/cold.out" && break; sleep 0.1; done
sleep 1
start=$(date +%s.%N)
kill -TERM $pid
wait $pid; rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
rm -rf "$cold"
check '[ $rc -eq 143 ] && awk -v t="$took" "BEGIN{exit !(t < 10)}"' "SIGTERM during the compile: exit $rc after ${took}s"
check '[ -z "$(run_dir "$tmp/cold")" ]' "SIGTERM during the compile left a run directory: $(run_dir "$tmp/cold")"
echo "SIGTERM during a cold compile: ended after ${took}s"
exit $fail
