#!/bin/bash
# The README's first command: install what is missing, build, and run a tool
# on the live system for a few seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${CORESCOPE_BUILD_DIR:-$root/build}
echo "== execsnoop and opensnoop for 5 seconds =="
"$build_dir/execsnoop" -T -d 5 &
"$build_dir/opensnoop" -T -x -d 5
wait
echo "== biolatency: one 5-second histogram =="
"$build_dir/biolatency" 5 1
