# Sourced by the CLI tests: the bad-input contract (SPEC section 2, issue 8) checked in one
# place. bad_input_problem NEEDLE CMD...: runs CMD and prints what breaks the contract —
# exit code not 2 (a signal shows as 128+N), stderr not exactly one line, or that line
# lacking NEEDLE (an empty NEEDLE matches any line) — or nothing when CMD keeps it.
bad_input_problem() {
  local needle=$1 err rc
  shift
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ $rc -ne 2 ]; then
    echo "exit $rc, want 2: $err"
  elif [ -z "$err" ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
    echo "stderr is not one line: '$err'"
  elif ! printf '%s' "$err" | grep -qF -- "$needle"; then
    echo "message '$err' lacks '$needle'"
  fi
}
