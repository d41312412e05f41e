#!/bin/bash
# The README's first command: install what is missing, build, and run
# `corescope triage` on the live system (a short window; 60 s is the
# default when run by hand).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${CORESCOPE_BUILD_DIR:-$root/build}
"$build_dir/corescope" triage -d "${CORESCOPE_TRIAGE_SECONDS:-10}"
