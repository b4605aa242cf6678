#!/usr/bin/env bash
# cltrain data info/export: the contract of the command line. Output of a small jsc-synth,
# export -> CSV -> load round trip, the real fixture's class balance, 'jsc' without a
# file, and every bad input answered with one line on stderr and exit code 2.
set -u
CLTRAIN=${1:?usage: cli_data.sh path/to/cltrain}
. "$(dirname "$0")/bad_input.sh"
SRC=${CLTRAIN_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
FIX="$SRC/tests/data/jsc_test100_standardized.csv"
T=$(mktemp -d /tmp/cltrain_cli_data_XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

# Run a command that must fail with exit 2 and exactly one stderr line containing $2.
expect_usage() { # name needle args...
  local p
  p=$(bad_input_problem "$2" "$CLTRAIN" "${@:3}")
  if [ -z "$p" ]; then
    echo "ok   $1"
  else
    echo "FAIL $1: $p"
    fails=$((fails + 1))
  fi
}

check "help" "'$CLTRAIN' data --help | grep -q -- '--val-fraction'"
check "main help lists data" "'$CLTRAIN' --help | grep -q '^  data '"

"$CLTRAIN" data info jsc-synth --synth-size 5000 >"$T/info" 2>&1; rc=$?
check "info jsc-synth: exit 0" "[ $rc -eq 0 ]"
check "info: split sizes" "grep -q 'train 3600, val 400, test 1000' '$T/info'"
check "info: every feature listed" "[ \$(grep -c '^  j_' '$T/info') -eq 16 ]"
check "info: classes" "grep -q 'classes 5 (g q W Z t)' '$T/info'"

"$CLTRAIN" data info "$FIX" --no-cache >"$T/info" 2>&1
check "fixture: 100 rows" "grep -q '100 read, 0 duplicates dropped' '$T/info'"
# Class totals over the three splits: g 17, q 24, W 18, Z 16, t 25.
for pair in g:17 q:24 W:18 Z:16 t:25; do
  c=${pair%%:*} want=${pair##*:}
  got=$(awk -v c="$c" '$1 == c && NF == 7 { print $2 + $4 + $6 }' "$T/info")
  check "fixture: class $c has $want rows" "[ '$got' = '$want' ]"
done

# Export, then load the export as a data set of its own.
"$CLTRAIN" data export jsc-synth --synth-size 5000 --split val --out "$T/val.csv" 2>/dev/null; rc=$?
check "export: exit 0" "[ $rc -eq 0 ]"
check "export: header" "head -1 '$T/val.csv' | grep -q '^j_zlogz,j_c1_b0_mmdt,.*,j_multiplicity,label$'"
check "export: 400 rows" "[ \$(( \$(wc -l <'$T/val.csv') - 1 )) -eq 400 ]"
"$CLTRAIN" data export jsc-synth --synth-size 5000 --split test --raw --out - >"$T/test_raw.csv" 2>/dev/null
check "export --raw to stdout: 1000 rows" "[ \$(( \$(wc -l <'$T/test_raw.csv') - 1 )) -eq 1000 ]"
XDG_CACHE_HOME="$T/xdg" "$CLTRAIN" data info "$T/test_raw.csv" >"$T/info2" 2>&1; rc=$?
check "exported CSV loads back" "[ $rc -eq 0 ] && grep -q '1000 read' '$T/info2'"
check "exported raw masses are in GeV" "awk -F, 'NR > 1 && \$15 > 60 { n++ } END { exit !(n > 200) }' '$T/test_raw.csv'"
# The cache goes to $XDG_CACHE_HOME/cltrain/data (else ~/.cache/cltrain/data), keyed by
# the file's content, never next to the data file (issue 14: read-only or shared folders).
check "cache written under \$XDG_CACHE_HOME/cltrain/data" "[ \$(ls '$T'/xdg/cltrain/data/*.cache | wc -l) -eq 1 ]"
check "no cache next to the source" "! ls '$T'/*.cache >/dev/null 2>&1"
XDG_CACHE_HOME="$T/xdg" "$CLTRAIN" data info "$T/test_raw.csv" >"$T/info3" 2>&1
check "second load (cache) prints the same" "cmp -s '$T/info2' '$T/info3'"
# A copy of the file elsewhere (same content) is served from the same cache entry; a
# read-only data folder is no obstacle.
mkdir -p "$T/ro" && cp "$T/test_raw.csv" "$T/ro/copy.csv" && chmod a-w "$T/ro"
XDG_CACHE_HOME="$T/xdg" "$CLTRAIN" data info "$T/ro/copy.csv" >"$T/info4" 2>"$T/err4"; rc=$?
check "read-only data folder: exit 0, no warning" "[ $rc -eq 0 ] && [ ! -s '$T/err4' ]"
check "same content, one cache entry" "[ \$(ls '$T'/xdg/cltrain/data/*.cache | wc -l) -eq 1 ]"
chmod u+w "$T/ro"
# Without \$XDG_CACHE_HOME: under \$HOME/.cache/cltrain.
env -u XDG_CACHE_HOME HOME="$T/home" "$CLTRAIN" data info "$T/test_raw.csv" >/dev/null 2>&1
check "default cache under \$HOME/.cache/cltrain/data" "ls '$T'/home/.cache/cltrain/data/*.cache >/dev/null 2>&1"

# The real data set without a file: where it looked and how to get it.
CLTRAIN_DATA_DIR="$T/none" "$CLTRAIN" data info jsc >/dev/null 2>"$T/err"; rc=$?
check "jsc missing: exit 2" "[ $rc -eq 2 ]"
check "jsc missing: says where and how" "grep -q '$T/none/jsc.h5' '$T/err' && grep -q 'cltrain data download jsc' '$T/err'"

# Bad input.
H="j_zlogz,j_c1_b0_mmdt,j_c1_b1_mmdt,j_c1_b2_mmdt,j_c2_b1_mmdt,j_c2_b2_mmdt,j_d2_b1_mmdt,j_d2_b2_mmdt,j_d2_a1_b1_mmdt,j_d2_a1_b2_mmdt,j_m2_b1_mmdt,j_m2_b2_mmdt,j_n2_b1_mmdt,j_n2_b2_mmdt,j_mass_mmdt,j_multiplicity,label"
ROW="-2.9,0.38,0.005,8e-05,0.009,0.0002,1.77,2.12,1.77,0.31,0.14,0.08,0.41,0.30,8.9,75,g"
: >"$T/empty.csv"
printf '%s\n%s\n' "${H/j_mass_mmdt,/}" "$ROW" >"$T/nomass.csv"
printf '%s\n%s\n%s\n' "$H" "$ROW" "${ROW/0.005/x1}" >"$T/text.csv"
printf '%s\n%s\n' "$H" "${ROW/8.9/nan}" >"$T/nan.csv"
printf '%s\n%s\n' "$H" "${ROW/,75,/,-inf,}" >"$T/inf.csv"
printf '%s\n%s\n' "$H" "${ROW/%,g/,x}" >"$T/label.csv"
expect_usage "missing file" "no such dataset or file" data info "$T/absent.csv"
expect_usage "empty file" "empty file" data info "$T/empty.csv"
expect_usage "missing feature column" "missing feature column 'j_mass_mmdt'" data info "$T/nomass.csv"
expect_usage "non-numeric cell" "row 2 (line 3), column 3 'j_c1_b1_mmdt': 'x1' is not a number" data info "$T/text.csv"
expect_usage "NaN" "column 15 'j_mass_mmdt': non-finite value 'nan'" data info "$T/nan.csv"
expect_usage "Inf" "column 16 'j_multiplicity': non-finite value '-inf'" data info "$T/inf.csv"
expect_usage "unknown label" "row 1: unknown label 'x'" data info "$T/label.csv"
expect_usage "directory" "is a directory" data info "$T"
expect_usage "no action" "missing action" data
expect_usage "unknown action" "unknown action 'show'" data show jsc-synth
expect_usage "no dataset" "missing DATASET" data info
expect_usage "unknown option" "unknown option '--bogus'" data info jsc-synth --bogus
expect_usage "option without value" "needs a value" data info jsc-synth --val-fraction
expect_usage "bad val fraction" "--val-fraction: 'x' is not a number" data info jsc-synth --val-fraction x
expect_usage "val fraction range" "--val-fraction: '0.95'" data info jsc-synth --val-fraction 0.95
expect_usage "bad synth size" "--synth-size" data info jsc-synth --synth-size 5
expect_usage "bad split seed" "--split-seed" data info jsc-synth --split-seed -1
expect_usage "export without split" "--split train|val|test|all is required" data export jsc-synth --out "$T/x.csv"
expect_usage "export bad split" "'dev' is not train, val, test or all" data export jsc-synth --split dev --out "$T/x.csv"
expect_usage "export without out" "--out FILE.csv is required" data export jsc-synth --split val
expect_usage "export unwritable" "cannot write" data export jsc-synth --synth-size 100 --split val --out "$T/no/dir/x.csv"
expect_usage "--data with synth" "--data names the file of DATASET 'jsc'" data info jsc-synth --data "$FIX"

if [ $fails -ne 0 ]; then echo "$fails data CLI checks failed"; exit 1; fi
echo "all data CLI checks passed"
