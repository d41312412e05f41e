#!/bin/bash
# The README's second command: install what is missing, build, and run every
# test suite (unit, integration).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${CORESCOPE_BUILD_DIR:-$root/build}
meson test -C "$build_dir" --print-errorlogs "$@"
