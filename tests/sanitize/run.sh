#!/bin/bash
# The sanitize suite: the unit and integration tests, and the tools they
# run, built with AddressSanitizer (leaks included) and
# UndefinedBehaviorSanitizer. Any report fails the suite: each sanitized
# process writes its reports to a file under a fresh directory (the tools'
# stderr stays what the tests expect), and the suite fails if one appears.
# The load cases ([load]) and the flag table ([flags]) are left out: they
# run every tool again on the same code paths the other cases reach, and
# under the sanitizers they would double the suite's time (the budget,
# docs/architecture.md); CORESCOPE_SANITIZE_ALL=1 runs them too.
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
test_args=('~[load]~[flags]')
[ "${CORESCOPE_SANITIZE_ALL:-0}" = 1 ] && test_args=()
meson test -C "$build" --no-rebuild --print-errorlogs --suite unit --suite integration \
    ${test_args[@]+--test-args "${test_args[@]}"} || status=$?
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
