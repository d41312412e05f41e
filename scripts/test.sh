#!/bin/bash
# The README's second command: install what is missing, build, and run the
# test suites with meson test. Ends with one "N passed, N failed, N skipped"
# line counting the test cases of all suites, and fails if any failed.
#
#   scripts/test.sh                 every default suite (README, Tests), no
#                                   load (as CI runs it, until three loaded
#                                   runs in a row pass: README, Tests)
#   scripts/test.sh --integration-under-load
#                                   the same, the integration suite last, on
#                                   its own, under the load
#   scripts/test.sh --under-load    every default suite under the load
#   scripts/test.sh --no-load       every default suite, no load
#   scripts/test.sh [--under-load] MESON-TEST-ARGS...
#                                   only what the arguments select (e.g.
#                                   --suite unit), without the load unless
#                                   --under-load
#
# The load: stress-ng with two CPU hogs and one disk writer (installed when
# missing), started here and stopped on every exit.
#
# Where the setup has run and BPF is permitted, no integration case may be
# skipped (CORESCOPE_NO_SKIP=1, tests/common/skip.h): there a skip means a
# broken test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
load= # which runs have the load: none, all or integration
case "${1:-}" in
--under-load) load=all; shift ;;
--integration-under-load) load=integration; shift ;;
--no-load) load=none; shift ;;
esac
load=${load:-none}
[ $# -gt 0 ] && [ $load = integration ] && load=all
if [ $load = none ]; then
    "$root/scripts/setup.sh" --arm64
else
    "$root/scripts/setup.sh" --arm64 stress-ng
fi
build_dir=${CORESCOPE_BUILD_DIR:-$root/build}

if [ "$(id -u)" = 0 ] && bpftool prog list >/dev/null 2>&1; then
    export CORESCOPE_NO_SKIP=1
fi

load_pid=
load_dir=
start_load() {
    # The disk writer's files go to a disk (not tmpfs), in a directory of
    # its own; stress-ng ends its workers when it gets SIGTERM.
    load_dir=$(mktemp -d /var/tmp/corescope-load.XXXXXX)
    stress-ng --cpu 2 --hdd 1 --hdd-bytes 256M --temp-path "$load_dir" --timeout 0 \
        >"$load_dir/stress-ng.log" 2>&1 &
    load_pid=$!
    echo "test.sh: background load: stress-ng --cpu 2 --hdd 1 (PID $load_pid)"
}
stop_load() {
    if [ -n "$load_pid" ]; then
        kill -TERM "$load_pid" 2>/dev/null || true
        wait "$load_pid" 2>/dev/null || true
        load_pid=
    fi
    if [ -n "$load_dir" ]; then
        rm -rf "$load_dir"
        load_dir=
    fi
}
trap stop_load EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status=0
logs=()
run_suites() { # LOGBASE MESON-TEST-ARGS...
    local logbase=$1
    shift
    rm -f "$build_dir/meson-logs/$logbase.json"
    meson test -C "$build_dir" --print-errorlogs --logbase "$logbase" "$@" || status=$?
    logs+=("$build_dir/meson-logs/$logbase.json")
}

[ $load = all ] && start_load
if [ $load = integration ]; then
    run_suites testlog --no-suite integration
    start_load
    run_suites testlog-integration-under-load --suite integration
    stop_load
else
    run_suites testlog "$@"
fi
stop_load
existing=()
for log in "${logs[@]}"; do
    [ -f "$log" ] && existing+=("$log")
done
if [ ${#existing[@]} -gt 0 ]; then
    python3 "$root/scripts/summarize_tests.py" "${existing[@]}" || status=1
else
    echo "test.sh: meson test wrote no log (see above)" >&2
    status=1
fi
exit $status
