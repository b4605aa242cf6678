# Sourced by the MPI test scripts (tests/cli_mpi.sh, tests/cli_mpi_train.sh) after they set
# BIN and NAME: skips the test (exit 0 with a line saying why) when there is no mpirun or
# the build has no MPI, and sets up what both use: a temporary folder, fail(), and MPI, the
# mpirun command line (bounded by timeout, as root, more ranks than cores).
if ! command -v mpirun > /dev/null || "$BIN" --version | grep -q "built without MPI"; then
  echo "$NAME: no mpirun or a build without MPI: nothing to test (scripts/bootstrap installs Open MPI)"
  exit 0
fi
# Under the AddressSanitizer build: Open MPI unloads its components (dlclose) before the
# process ends, so LeakSanitizer cannot name the library of what MPI_Init allocated and
# the suppressions cannot match it. Leaks are checked without MPI (test_dist and every
# other test run the same code as one process); the other ASan checks stay on here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
MPI=(timeout -k 5 300 mpirun --allow-run-as-root --oversubscribe --quiet)
