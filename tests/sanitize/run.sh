#!/bin/bash
# The sanitize suite: the unit tests, and the tools the integration tests
# run, built with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer. Any report fails the suite: each sanitized
# process writes its reports to a file under a fresh directory (the tools'
# stderr stays what the tests expect), and the suite fails if one appears.
# Of the integration suite, the cases that span the tools run: [common]
# and [faults] run each tool of a representative slice (below), with events
# of its kind flowing through its printer or summary, [hostile] the tools
# that print names and argv on hostile ones, [corescope] and [triage] the
# front end. The per-tool cases, the load cases, the flag table and the
# rest of the tools run the same shared code paths again with other
# options; under the sanitizers they would more than double the suite's
# time, and the fuzzers feed every tool's decoder under the same sanitizers
# (the time budget, docs/architecture.md). CORESCOPE_SANITIZE_ALL=1 runs
# every case for every tool.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${CORESCOPE_SANITIZE_BUILD:?set by meson test}
"$here/build.sh" "$build"

reports=$(mktemp -d /tmp/corescope-sanitize.XXXXXX)
chmod 1777 "$reports" # the unprivileged-run tests write here too
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export LSAN_OPTIONS="print_suppressions=0"
status=0
test_args=('[common],[faults],[hostile],[corescope],[triage]')
# One tool for each shared piece of common/ and bpf/: the event ring buffer
# and paths (opensnoop), argv (execsnoop), addresses (tcpconnect), drop
# reasons and kernel stacks (tcpdrop), the top table (tcptop), uprobes
# (gethostlatency), histograms and disks (biolatency), per-task histograms
# (runqlat), user stacks and symbols (offcputime, futexctn), perf events
# (profile, runqlen), system call counts (syscount), interval summaries and
# the page cache (cachestat), interrupt times (hardirqs), wakeups
# (wakeuptime), sockets and descriptors (sofdsnoop), the file behind a
# read or write (filetop), block requests from start to completion (biotop).
export CORESCOPE_TEST_TOOLS=opensnoop,execsnoop,tcpconnect,tcpdrop,tcptop,gethostlatency,biolatency,runqlat,offcputime,futexctn,profile,runqlen,syscount,cachestat,hardirqs,wakeuptime,sofdsnoop,filetop,biotop
if [ "${CORESCOPE_SANITIZE_ALL:-0}" = 1 ]; then
    test_args=()
    unset CORESCOPE_TEST_TOOLS
fi
meson test -C "$build" --no-rebuild --print-errorlogs --suite unit || status=$?
# The main tree's integration binary (the harness needs no sanitizer; the
# tools it runs are the sanitized ones).
integration_tests=${CORESCOPE_INTEGRATION_TESTS:?set by meson test}
CORESCOPE_BUILD_DIR=$build "$integration_tests" ${test_args[@]+"${test_args[@]}"} || status=$?
# A process killed while LeakSanitizer checks it at exit (a test's cleanup
# sends SIGKILL to a tool it no longer waits for) leaves one line from the
# checker, which outlives it: "Unable to get registers from thread N". That
# is the checker losing its subject, not a finding; anything else is.
for f in "$reports"/*; do
    [ -e "$f" ] || continue
    if ! grep -qv '^==[0-9]*==Unable to get registers from thread [0-9]*\.$' "$f"; then
        echo "sanitize: note: $(basename "$f"): process killed during its leak check" >&2
        rm -f "$f"
    fi
done
if compgen -G "$reports/*" >/dev/null; then
    echo "sanitize: sanitizer reports:" >&2
    for f in "$reports"/*; do
        echo "--- $f" >&2
        cat "$f" >&2
    done
    status=1
fi
rm -rf "$reports"
exit $status
