#!/bin/bash
# The command-line contract over every sub-command: bad input (missing arguments, unknown
# options, non-numeric and out-of-range values, bad model files, missing / empty /
# unreadable / directory paths, unknown device specs, unwritable project directories)
# gives exactly one line on stderr starting "cltrain: error:" and naming the problem, and
# exit code 2. No case may end by a signal, and none may leave a run marked finished.
#
# Each case: `bad NEEDLE -- ARGS...` (the stderr line must contain NEEDLE). Cases that
# need setup (an environment variable, another user) use bad_env / bad_as_nobody.
set -u
BIN=$(realpath "$1")
fail=0
cases=0
tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
export CLTRAIN_TUNING_DIR=$tmp/tuning     # never touch the user's tuning files
export CLTRAIN_DATA_DIR=$tmp/datahome     # 'jsc' without --data looks here: nothing there
unset CLTRAIN_DEVICE

report() { echo "FAIL: $*"; fail=1; }

# Run "$@" and check the contract. $needle and $runs (a project dir to inspect) are set
# by the callers below.
run_case() {
  local err rc lines
  cases=$((cases + 1))
  # Every case is refused before any training, in well under a second: a case still
  # running after 120 s hangs (a directory-name loop did once).
  err=$(timeout -k 5 120 "$@" 2>&1 >/dev/null); rc=$?
  lines=$(printf '%s\n' "$err" | grep -c .)
  if [ $rc -eq 124 ]; then report "[$*] still running after 120 s: $err"; return; fi
  [ -z "${CLI_MATRIX_VERBOSE:-}" ] || printf '%-60.60s -> %s\n' "${*: -3}" "$err"
  if [ $rc -gt 128 ]; then report "[$*] killed by signal $((rc - 128)): $err"; return; fi
  if [ $rc -ne 2 ]; then report "[$*] exit $rc, want 2: $err"; return; fi
  if [ "$lines" -ne 1 ]; then report "[$*] $lines lines on stderr, want 1: $err"; return; fi
  case $err in "cltrain: error: "*) ;; *) report "[$*] stderr does not start with 'cltrain: error: ': $err"; return ;; esac
  if ! printf '%s' "$err" | grep -qF -- "$needle"; then report "[$*] error '$err' lacks '$needle'"; fi
}

bad() { # NEEDLE -- ARGS...
  needle=$1; shift 2
  run_case "$BIN" "$@"
}
bad_env() { # NEEDLE VAR=VALUE -- ARGS...
  needle=$1; local env=$2; shift 3
  run_case env "$env" "$BIN" "$@"
}
# Root reads and writes through any permission bits: to test them, drop to nobody.
as_nobody=()
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null &&
   setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" --version > /dev/null 2>&1; then
  as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$tmp/nobody-home")
  mkdir -p "$tmp/nobody-home"
fi
bad_perm() { # NEEDLE -- ARGS... : as the current user, or as nobody when root
  needle=$1; shift 2
  if [ "$(id -u)" -ne 0 ]; then run_case "$BIN" "$@"
  elif [ ${#as_nobody[@]} -gt 0 ]; then run_case "${as_nobody[@]}" "$BIN" "$@"
  else echo "note: running as root without setpriv: permission cases skipped"; fi
}

# ---- fixtures ----
chmod 755 "$tmp"
mkdir dir.model dir.csv dir.ckpt empty-dir
: > empty.model; : > empty.csv; : > empty.ckpt; : > empty.h5
printf 'input 16\nbatchnorm\nrelu\nlinear 5\nrelu\n' > good.model
printf 'input 16\nbatchnorm\nrelu\nlinear 5\nrelu\n' > unreadable.model; chmod 000 unreadable.model
printf '# only comments\n\n   # and blanks\n' > comments.model
printf 'input 16\nlinear 32\ndropout 1\nlinear 5\n' > dropout1.model
printf 'input 16\nlinear 32\ndropout 1.5\nlinear 5\n' > dropout15.model
printf 'input 16\nlinear 32\ndropout -0.1\nlinear 5\n' > dropoutneg.model
printf 'input 16\nlinear 32\ndropout nan\nlinear 5\n' > dropoutnan.model
printf 'input 16\nlinear 32\ndropout\nlinear 5\n' > dropoutnone.model
printf 'input 16\nlinear 32\ndropout 0.5 0.2\nlinear 5\n' > dropouttwo.model
printf 'input 16\nlinear 0\nlinear 5\n' > linear0.model
printf 'input 16\nlinear -3\nlinear 5\n' > linearneg.model
printf 'input 16\nlinear 99999999\nlinear 5\n' > linearhuge.model
printf 'input 16\nlinear 8x\nlinear 5\n' > linearx.model
printf 'input 0\nlinear 5\n' > input0.model
printf 'linear 5\n' > noinput.model
printf 'input 16\ninput 16\nlinear 5\n' > input2.model
printf 'input 16\nconv 3\nlinear 5\n' > unknown.model
printf 'input 16\nrelu 3\nlinear 5\n' > reluarg.model
printf 'input 16\nleaky_relu fast\nlinear 5\n' > leaky.model
printf 'input 16\nlinear 4\n' > width4.model
printf 'input 8\nlinear 5\n' > input8.model
printf 'input 16\nlin\0ear 5\n' > nul.model
{ echo 'input 16'; for i in $(seq 70); do echo relu; done; echo 'linear 5'; } > deep.model
{ printf 'input 16\nlinear 5'; head -c 100000 /dev/zero | tr '\0' ' '; printf '\n'; } > longline.model
csv=$CLTRAIN_SOURCE_DIR/tests/data/jsc_raw8_openml.csv
head -1 "$csv" > header-only.csv
{ head -1 "$csv"; sed -n 2p "$csv" | sed 's/^[^,]*,/abc,/'; } > badcell.csv
{ head -1 "$csv" | cut -d, -f2-; sed -n 2,9p "$csv" | cut -d, -f2-; } > missingcol.csv
{ head -1 "$csv"; sed -n 2,9p "$csv" | sed 's/,[^,]*$/,higgs/'; } > badlabel.csv
printf 'not,a,dataset\n1,2,3\n' > foreign.csv
cp "$csv" unreadable.csv; chmod 000 unreadable.csv
printf '\211HDF\r\n\032\n garbage' > garbage.h5
printf 'CLTRCKPT garbage' > garbage.ckpt
printf 'hello' > plain.ckpt
printf 'x' > a-file
cp garbage.ckpt unreadable.ckpt; chmod 000 unreadable.ckpt
long=$(printf 'a%.0s' $(seq 5000))      # longer than any path cltrain keeps
mkdir no-metrics; mkdir empty-metrics; : > empty-metrics/metrics.csv
mkdir bad-metrics; printf 'step,epoch\n1\n' > bad-metrics/metrics.csv
mkdir readonly-dir; chmod 555 readonly-dir
mkdir runs; chmod 777 runs             # nobody may write run directories here

# ---- top level ----
bad "unknown command 'frobnicate'" -- frobnicate
bad "unknown command '--bogus'" -- --bogus
bad "unknown command ''" -- ""

# ---- devices ----
bad "unknown option '--bogus'" -- devices --bogus
bad "unknown option '-x'" -- devices -x
bad "unexpected argument 'extra'" -- devices extra

# ---- models ----
bad "unknown option '--bogus'" -- models --bogus
bad "unknown model 'nosuch'" -- models nosuch
bad "missing.model" -- models missing.model
bad "empty.model" -- models empty.model
bad "comments.model" -- models comments.model
bad "dir.model" -- models dir.model
bad "dir.model" -- models dir.model/
bad_perm "unreadable.model" -- models unreadable.model
bad "dropout1.model:3" -- models dropout1.model
bad "dropout15.model:3" -- models dropout15.model
bad "dropoutneg.model:3" -- models dropoutneg.model
bad "dropoutnan.model:3" -- models dropoutnan.model
bad "dropoutnone.model:3" -- models dropoutnone.model
bad "dropouttwo.model:3" -- models dropouttwo.model
bad "linear0.model:2" -- models linear0.model
bad "linearneg.model:2" -- models linearneg.model
bad "linearhuge.model:2" -- models linearhuge.model
bad "linearx.model:2" -- models linearx.model
bad "input0.model:1" -- models input0.model
bad "noinput.model:1" -- models noinput.model
bad "input2.model:2" -- models input2.model
bad "unknown.model:2: unknown layer 'conv'" -- models unknown.model
bad "reluarg.model:2" -- models reluarg.model
bad "leaky.model:2" -- models leaky.model
bad "nul.model" -- models nul.model
bad "deep.model" -- models deep.model
bad "longline.model" -- models longline.model
bad "at most 16" -- models $(for i in $(seq 17); do echo jsc-tiny; done)
bad "missing.model" -- models jsc-tiny missing.model

# ---- train: arguments and values ----
T=(train jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --project-dir "$tmp/runs")
bad "needs MODEL and DATASET" -- train
bad "needs MODEL and DATASET" -- train jsc-tiny
bad "unexpected argument 'extra'" -- train jsc-tiny jsc-synth extra
bad "unknown option '--bogus'" -- "${T[@]}" --bogus
bad "unknown option '--batchsize'" -- "${T[@]}" --batchsize 32
bad "'--s'" -- "${T[@]}" --s 1
bad "'--max-epochs' needs a value" -- "${T[@]}" --max-epochs
bad "'--device' needs a value" -- "${T[@]}" --device
for v in 0 -1 abc 1.5 "" " 32" 32x 99999999999999999999; do
  bad "--batch-size: '$v'" -- "${T[@]}" --batch-size "$v"
done
bad "--batch-size 5000 is larger than the training split" -- "${T[@]}" --batch-size 5000
for v in 0 -1 -1e-3 nan inf 1e400 abc 1e-5x ""; do
  bad "--learning-rate: '$v'" -- "${T[@]}" --learning-rate "$v"
done
for v in 0 -3 abc 2.5 ""; do bad "--max-epochs: '$v'" -- "${T[@]}" --max-epochs "$v"; done
for v in -1 nan abc; do bad "--weight-decay: '$v'" -- "${T[@]}" --weight-decay "$v"; done
for v in -1 x 1.5; do bad "--seed: '$v'" -- "${T[@]}" --seed "$v"; done
bad "--early-stopping: '-1'" -- "${T[@]}" --early-stopping -1
bad "--log-every-n-steps: '0'" -- "${T[@]}" --log-every-n-steps 0
for v in -0.1 1 1.5 nan x; do bad "--val-fraction: '$v'" -- "${T[@]}" --val-fraction "$v"; done
for v in 0 -5 abc 99999999999; do bad "--synth-size: '$v'" -- "${T[@]}" --synth-size "$v"; done
for v in -1 x; do bad "--split-seed: '$v'" -- "${T[@]}" --split-seed "$v"; bad "--synth-seed: '$v'" -- "${T[@]}" --synth-seed "$v"; done
bad "--optimizer: 'adagrad'" -- "${T[@]}" --optimizer adagrad
bad "--optimizer: ''" -- "${T[@]}" --optimizer ""
bad "--scheduler: 'step'" -- "${T[@]}" --scheduler step
bad "--load and --resume" -- "${T[@]}" --load a.ckpt --resume b.ckpt

# ---- train: models ----
M=(--synth-size 2000 --max-epochs 1 --project-dir "$tmp/runs")
MF=(--max-epochs 1 --project-dir "$tmp/runs") # a data file: --synth-size is refused with it
bad "unknown model 'jsc-huge'" -- train jsc-huge jsc-synth "${M[@]}"
bad "missing.model" -- train missing.model jsc-synth "${M[@]}"
bad "empty.model" -- train empty.model jsc-synth "${M[@]}"
bad "dir.model" -- train dir.model jsc-synth "${M[@]}"
bad_perm "unreadable.model" -- train unreadable.model jsc-synth "${M[@]}"
bad "dropout1.model:3" -- train dropout1.model jsc-synth "${M[@]}"
bad "dropout15.model:3" -- train dropout15.model jsc-synth "${M[@]}"
bad "dropoutneg.model:3" -- train dropoutneg.model jsc-synth "${M[@]}"
bad "width4.model" -- train width4.model jsc-synth "${M[@]}"
bad "input width is 8" -- train input8.model jsc-synth "${M[@]}"

# ---- train: datasets ----
bad "nosuch: no such dataset or file" -- train jsc-tiny nosuch "${MF[@]}"
bad "missing.csv" -- train jsc-tiny missing.csv "${MF[@]}"
bad "empty.csv" -- train jsc-tiny empty.csv "${MF[@]}"
bad "dir.csv" -- train jsc-tiny dir.csv "${MF[@]}"
bad "header-only.csv" -- train jsc-tiny header-only.csv "${MF[@]}"
bad "badcell.csv" -- train jsc-tiny badcell.csv "${MF[@]}"
bad "missingcol.csv" -- train jsc-tiny missingcol.csv "${MF[@]}"
bad "higgs" -- train jsc-tiny badlabel.csv "${MF[@]}"
bad "foreign.csv" -- train jsc-tiny foreign.csv "${MF[@]}"
bad_perm "unreadable.csv" -- train jsc-tiny unreadable.csv "${MF[@]}"
bad "empty.h5" -- train jsc-tiny empty.h5 "${MF[@]}"
bad "garbage.h5" -- train jsc-tiny garbage.h5 "${MF[@]}"
bad "missing.h5" -- train jsc-tiny jsc --data missing.h5 "${MF[@]}"
bad "jsc" -- train jsc-tiny jsc "${MF[@]}"
bad "training split" -- train jsc-tiny "$csv" "${MF[@]}" --no-cache

# ---- train: checkpoints ----
for f in missing.ckpt empty.ckpt dir.ckpt garbage.ckpt plain.ckpt; do
  bad "$f" -- train --resume "$f"
  bad "$f" -- "${T[@]}" --load "$f"
done

bad_perm "unreadable.ckpt" -- train --resume unreadable.ckpt
bad_perm "unreadable.ckpt" -- "${T[@]}" --load unreadable.ckpt
bad_perm "unreadable.ckpt" -- test jsc-tiny jsc-synth --load unreadable.ckpt

# ---- train: over-long values ----
bad "longer than 1023 characters" -- train "$long" jsc-synth "${M[@]}"
bad "longer than 1023 characters" -- train jsc-tiny "$long" "${M[@]}"
bad "longer than 1023 characters" -- "${T[@]}" --project-dir "$long"
bad "longer than 1023 characters" -- "${T[@]}" --resume "$long"
bad "longer than 255 characters" -- "${T[@]}" --device "$long"
bad "model file 'aaaa" -- models "$long"
bad "--vary" -- sweep jsc-tiny jsc-synth --vary "batch-size=$long"

# ---- train: devices ----
bad "device" -- "${T[@]}" --device 99
bad "device" -- "${T[@]}" --device 7:3
bad "device" -- "${T[@]}" --device -1
bad "no-such-gpu" -- "${T[@]}" --device no-such-gpu
bad "device" -- "${T[@]}" --device ""
bad_env "no-such-gpu" CLTRAIN_DEVICE=no-such-gpu -- "${T[@]}"

# ---- train: project directories ----
bad "a-file" -- "${T[@]}" --project-dir a-file
bad "a-file" -- "${T[@]}" --project-dir a-file/sub
bad "/proc/cltrain-none" -- "${T[@]}" --project-dir /proc/cltrain-none
bad "--project-dir" -- "${T[@]}" --project-dir ""
bad_perm "readonly-dir" -- "${T[@]}" --project-dir readonly-dir
bad_perm "readonly-dir" -- "${T[@]}" --project-dir readonly-dir/sub
bad "--kernels-dir" -- "${T[@]}" --kernels-dir empty-dir

# ---- test ----
bad "--load" -- test jsc-tiny jsc-synth
bad "give MODEL and DATASET, or neither" -- test jsc-tiny
bad "unknown option '--bogus'" -- test jsc-tiny jsc-synth --load x.ckpt --bogus
bad "--split: 'dev' is not test, val, train or all" -- test jsc-tiny jsc-synth --load x.ckpt --split dev
bad "--batch-size: '0'" -- test jsc-tiny jsc-synth --load x.ckpt --batch-size 0
for f in missing.ckpt empty.ckpt dir.ckpt garbage.ckpt plain.ckpt; do
  bad "$f" -- test jsc-tiny jsc-synth --load "$f"
done

# ---- sweep ----
S=(sweep jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --project-dir "$tmp/runs")
bad "--vary" -- "${S[@]}"
bad "needs MODEL and DATASET" -- sweep --vary batch-size=32
bad "--vary" -- "${S[@]}" --vary batch-size
bad "--vary" -- "${S[@]}" --vary batch-size=
bad "--vary" -- "${S[@]}" --vary batch-size=32,,64
bad "--vary" -- "${S[@]}" --vary =32
bad "colour" -- "${S[@]}" --vary colour=red
bad "'0'" -- "${S[@]}" --vary batch-size=32,0
bad "'-1'" -- "${S[@]}" --vary learning-rate=1e-3,-1
bad "'x'" -- "${S[@]}" --vary max-epochs=x
bad "nosuch" -- "${S[@]}" --vary model=jsc-tiny,nosuch
bad "dropout1.model" -- "${S[@]}" --vary model=jsc-tiny,dropout1.model
bad "no-such-gpu" -- "${S[@]}" --vary device=0,no-such-gpu
bad "unknown option '--bogus'" -- "${S[@]}" --vary batch-size=32 --bogus
bad "a-file" -- "${S[@]}" --vary batch-size=32 --out a-file
bad "a-file" -- "${S[@]}" --vary batch-size=32 --project-dir a-file
bad "missing.csv" -- sweep jsc-tiny missing.csv --vary batch-size=32 --project-dir "$tmp/runs"
# A batch larger than the training split fails only that point: recorded, not refused
# up front (tests/cli_sweep.sh).

# ---- lab1 ----
bad "unknown option '--bogus'" -- lab1 --bogus
bad "unexpected argument 'extra'" -- lab1 --quick extra
for v in 0 x -5; do bad "--synth-size: '$v'" -- lab1 --quick --synth-size "$v" --out "$tmp/lab"; done
bad "--seed: 'x'" -- lab1 --quick --seed x --out "$tmp/lab"
bad "a-file" -- lab1 --quick --out a-file
bad "a-file" -- lab1 --quick --project-dir a-file
bad "missing.csv" -- lab1 --quick --data missing.csv --out "$tmp/lab"
bad "no-such-gpu" -- lab1 --quick --device no-such-gpu --out "$tmp/lab"

# ---- plot ----
bad "give at least one" -- plot
bad "no-such-dir" -- plot no-such-dir
bad "a-file" -- plot a-file
bad "not a run directory" -- plot no-metrics
bad "empty-metrics" -- plot empty-metrics
bad "bad-metrics" -- plot bad-metrics
bad "unknown option '--bogus'" -- plot --bogus no-metrics
bad "'--out' needs a value" -- plot no-metrics --out

# ---- data ----
bad "missing action" -- data
bad "unknown action 'frob'" -- data frob jsc-synth
bad "missing DATASET" -- data info
bad "unknown option '--bogus'" -- data info jsc-synth --bogus
bad "missing.csv" -- data info missing.csv
bad "empty.csv" -- data info empty.csv
bad "dir.csv" -- data info dir.csv
bad_perm "unreadable.csv" -- data info unreadable.csv
bad "--synth-size: '0'" -- data info jsc-synth --synth-size 0
bad "--val-fraction: '2'" -- data info jsc-synth --val-fraction 2
bad "--split train|val|test|all is required" -- data export jsc-synth --out x.csv
bad "--out FILE.csv is required" -- data export jsc-synth --split train
bad "--split: 'every'" -- data export jsc-synth --split every --out x.csv
bad "a-file/x.csv" -- data export jsc-synth --synth-size 100 --split train --out a-file/x.csv
bad "dir.csv" -- data export jsc-synth --synth-size 100 --split train --out dir.csv
bad "only 'jsc'" -- data download jsc-synth
bad "--sha256" -- data download jsc --sha256 xyz --out "$tmp/dl.h5"

# ---- tune ----
bad "unknown option '--bogus'" -- tune --bogus
bad "unexpected argument 'extra'" -- tune extra
bad "nosuch" -- tune --models nosuch --dry-run
bad "dropout1.model" -- tune --models dropout1.model --dry-run
bad "--models" -- tune --models "" --dry-run
bad "--models" -- tune --models jsc-tiny,,jsc-toy --dry-run
for v in 0 x -1 32,,64; do bad "--batch-sizes" -- tune --batch-sizes "$v" --dry-run; done
for v in 0 x 100; do bad "--candidates: '$v'" -- tune --candidates "$v" --dry-run; done
for v in 0 x; do bad "--reps: '$v'" -- tune --reps "$v" --dry-run; done
bad "no-such-gpu" -- tune --device no-such-gpu --dry-run

# ---- compare (once it is in the command table) ----
if "$BIN" compare --help > /dev/null 2>&1; then
  C=(compare jsc-tiny jsc-synth --synth-size 2000 --max-epochs 1 --project-dir "$tmp/runs")
  bad "--devices" -- "${C[@]}"
  bad "needs MODEL and DATASET" -- compare --devices all
  bad "unknown option '--bogus'" -- "${C[@]}" --devices all --bogus
  bad "'--devices' needs a value" -- "${C[@]}" --devices
  bad "no-such-gpu" -- "${C[@]}" --devices 0,no-such-gpu
  bad "device" -- "${C[@]}" --devices 99
  bad "--devices" -- "${C[@]}" --devices 0,,0
  bad "--batch-size: '0'" -- "${C[@]}" --devices all --batch-size 0
  bad "--batch-size 5000 is larger than the training split" -- "${C[@]}" --devices all --batch-size 5000
  bad "--learning-rate: '-1'" -- "${C[@]}" --devices all --learning-rate -1
  bad "dropout1.model:3" -- compare dropout1.model jsc-synth --devices all --project-dir "$tmp/runs"
  bad "missing.csv" -- compare jsc-tiny missing.csv --devices all --project-dir "$tmp/runs"
  bad "a-file" -- "${C[@]}" --devices all --out a-file
  bad "a-file" -- "${C[@]}" --devices all --project-dir a-file
fi

# ---- bench ----
if "$BIN" bench --help > /dev/null 2>&1; then
  bad "unknown option '--bogus'" -- bench --bogus
  bad "unexpected argument 'extra'" -- bench extra
  bad "nosuch" -- bench --models nosuch --quick
  bad "dropout1.model" -- bench --models dropout1.model --quick
  bad "--models" -- bench --models "" --quick
  for v in 0 x -1 32,,64; do bad "--batch-sizes" -- bench --batch-sizes "$v" --quick; done
  for v in 0 x; do bad "--reps: '$v'" -- bench --reps "$v" --quick; done
  bad "--epoch-batch: '0'" -- bench --epoch-batch 0 --quick
  bad "--synth-size: '0'" -- bench --synth-size 0 --quick
  bad "nosuch" -- bench --epoch-model nosuch --quick
  bad "no-such-gpu" -- bench --device no-such-gpu --quick
  bad "a-file" -- bench --models jsc-tiny --batch-sizes 32 --quick --no-epoch --out a-file
fi

# ---- hostile files, paths and values (issue 15) ----
# Model, checkpoint and tuning files: regular files under a cap only; a FIFO or a device
# is refused at once (it used to hang, or grow at 2 GB/s from /dev/zero).
mkfifo fifo.model fifo.ckpt
truncate -s 17M big.model
S=(--synth-size 2000 --max-epochs 1 --project-dir "$tmp/runs")
bad "'/dev/zero' is not a regular file" -- models /dev/zero
bad "'fifo.model' is not a regular file" -- models fifo.model
bad "larger than the 16 MiB cap" -- models big.model
bad "checkpoint /dev/zero is not a regular file" -- train --resume /dev/zero
bad "checkpoint fifo.ckpt is not a regular file" -- train --resume fifo.ckpt
bad "checkpoint /dev/zero is not a regular file" -- train jsc-tiny jsc-synth "${S[@]}" --load /dev/zero
bad "checkpoint fifo.ckpt is not a regular file" -- test jsc-tiny jsc-synth --load fifo.ckpt
bad "'fifo.model' is not a regular file" -- sweep jsc-tiny jsc-synth "${S[@]}" --vary model=fifo.model,jsc-tiny --out "$tmp/sw-fifo"
bad "'/dev/zero' is not a regular file" -- train /dev/zero jsc-synth "${S[@]}"
# Device specs: strict numbers, no wrap-around to device 0.
for d in 0:4294967296 4294967296:0 0:-4294967296 -1 "0:" ":0" 1:2:3; do
  bad "device '$d': not a device index" -- train jsc-tiny jsc-synth "${S[@]}" --device "$d"
done
# Control characters in anything that becomes a path, a CSV cell or a message.
nl=$'\n'
bad "--out: the value contains a control character" -- sweep jsc-tiny jsc-synth "${S[@]}" --vary seed=1,2 --out "sw/new${nl}line"
bad "--device: the value contains a control character" -- train jsc-tiny jsc-synth "${S[@]}" --device "a${nl}b"
bad "--project-dir: the value contains a control character" -- train jsc-tiny jsc-synth --project-dir "p${nl}q"
bad "contains a control character" -- models "odd${nl}.model"
bad "contains a control character" -- train jsc-tiny "jsc-synth"$'\t'
bad_env "CLTRAIN_DEVICE: the value contains a control character" "CLTRAIN_DEVICE=a${nl}b" -- train jsc-tiny jsc-synth "${S[@]}"
# A quoted newline in a metrics.csv cell: one line, not two.
mkdir nl-metrics; printf 'step,epoch,train_loss,train_acc,lr\n1,0,"0.5\n0.6",0.5,0.1\n' > nl-metrics/metrics.csv
bad "is not a number" -- plot nl-metrics
# The output is the input (same inode, whatever the name): refused, nothing truncated.
"$BIN" data export jsc-synth --synth-size 3000 --split test --raw --out self.csv 2>/dev/null
ln self.csv self-link.csv
rows_before=$(wc -l < self.csv)
bad "is the input file" -- data export self.csv --split test --raw --out self.csv
bad "is the input file" -- data export self.csv --split test --raw --out ./self-link.csv
[ "$(wc -l < self.csv)" = "$rows_before" ] || report "data export truncated its own input"
# A finite value that leaves float range once standardised: refused, naming row and column.
{ head -1 "$csv"; sed -n 2,400p "$csv"; } > spread.csv
awk -F, 'BEGIN{OFS=","} NR==1{print; next} {$1=(NR%2)*0.01; print}' spread.csv > small.csv
overflow_case=""
for row in $(seq 1 40); do
  awk -F, -v r=$row 'BEGIN{OFS=","} NR==r+1{$1="1e38"} {print}' small.csv > over.csv
  if ! "$BIN" data info over.csv --no-cache > /dev/null 2>&1; then overflow_case=$row; break; fi
done
if [ -n "$overflow_case" ]; then
  bad "row $overflow_case, column" -- data info over.csv --no-cache
  bad "beyond float range once standardised" -- train jsc-tiny over.csv --max-epochs 1 --project-dir "$tmp/runs" --no-cache
  bad "beyond float range once standardised" -- data export over.csv --no-cache --split test --out over-out.csv
  [ ! -e over-out.csv ] || report "data export wrote a file from a table that overflows"
else
  report "no row of over.csv landed outside the training split"
fi
# The download destination: a directory or a device is bad input.
bad "is a directory" -- data download jsc --url http://127.0.0.1:9/x --out "$tmp"
bad "not a regular file" -- data download jsc --url http://127.0.0.1:9/x --out /dev/zero

# ---- nothing failed half-way into a finished run ----
# (stronger: every refusal comes before a run directory is made)
if [ -d "$tmp/runs" ]; then
  finished=$(grep -l '"status": "finished"' "$tmp"/runs/*/summary.json 2>/dev/null)
  [ -z "$finished" ] || report "a refused command left a finished run: $finished"
  left=$(ls -A "$tmp/runs")
  [ -z "$left" ] || report "refused commands left run directories: $left"
fi
echo "cli_matrix: $cases cases"
exit $fail
