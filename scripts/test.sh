#!/bin/bash
# The README's second command: install what is missing, build, and run every
# test suite (unit, integration). Ends with one "N passed, N failed" line
# counting the Catch2 test cases of all suites.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${CORESCOPE_BUILD_DIR:-$root/build}
status=0
meson test -C "$build_dir" --print-errorlogs "$@" || status=$?
python3 "$root/scripts/summarize_tests.py" "$build_dir/meson-logs/testlog.json" || true
exit $status
