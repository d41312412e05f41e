#!/bin/bash
# The README's second command: install what is missing, build, and run the
# test suites with meson test (arguments after the options go to it, e.g.
# --suite unit). Ends with one "N passed, N failed, N skipped" line counting
# the test cases of all suites, and fails if any failed.
#
#   --under-load  runs the suites while a background load keeps the machine
#                 busy (stress-ng: two CPU hogs and one disk writer, installed
#                 when missing), started here and stopped on every exit.
#
# Where the setup has run and BPF is permitted, no integration case may be
# skipped (CORESCOPE_NO_SKIP=1, tests/common/skip.h): there a skip means a
# broken test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
under_load=false
if [ "${1:-}" = --under-load ]; then
    under_load=true
    shift
fi
if $under_load; then
    "$root/scripts/setup.sh" stress-ng
else
    "$root/scripts/setup.sh"
fi
build_dir=${CORESCOPE_BUILD_DIR:-$root/build}

if [ "$(id -u)" = 0 ] && bpftool prog list >/dev/null 2>&1; then
    export CORESCOPE_NO_SKIP=1
fi

load_pid=
load_dir=
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
if $under_load; then
    # The disk writer's files go to a disk (not tmpfs), in a directory of
    # its own; stress-ng ends its workers when it gets SIGTERM.
    load_dir=$(mktemp -d /var/tmp/corescope-load.XXXXXX)
    stress-ng --cpu 2 --hdd 1 --hdd-bytes 256M --temp-path "$load_dir" --timeout 0 \
        >"$load_dir/stress-ng.log" 2>&1 &
    load_pid=$!
    echo "test.sh: background load: stress-ng --cpu 2 --hdd 1 (PID $load_pid)"
fi

status=0
meson test -C "$build_dir" --print-errorlogs "$@" || status=$?
python3 "$root/scripts/summarize_tests.py" "$build_dir/meson-logs/testlog.json" || status=1
exit $status
