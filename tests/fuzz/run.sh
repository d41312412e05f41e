#!/bin/bash
# The fuzz suite: replays every target's corpus (seeds and regression
# inputs, tests/fuzz/corpus/TARGET), then fuzzes each target for a bounded
# time. A crash or a broken property fails the suite; the input that caused
# it is kept in the artifacts directory, to be added to the corpus as a
# regression input once fixed.
#   CORESCOPE_FUZZ_SECONDS  seconds per target (default 30)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${CORESCOPE_SANITIZE_BUILD:?set by meson test}
seconds=${CORESCOPE_FUZZ_SECONDS:-30}
"$root/tests/sanitize/build.sh" "$build" tests/fuzz/fuzz_cli tests/fuzz/fuzz_decoders tests/fuzz/fuzz_output tests/fuzz/fuzz_http \
    tests/fuzz/fuzz_flamegraph tests/fuzz/fuzz_triage_html tests/fuzz/fuzz_web_config

artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The targets fuzz side by side (each is one single-threaded process):
# the suite takes one target's time instead of five.
fuzz_one() { # TARGET
    local target=$1 fuzzer=$build/tests/fuzz/fuzz_$1 corpus=$here/corpus/$1 work
    work=$(mktemp -d /tmp/corescope-fuzz-$target.XXXXXX)
    {
        echo "fuzz_$target: replaying $(ls "$corpus" | wc -l) corpus inputs, then fuzzing ${seconds}s"
        if ! "$fuzzer" -runs=0 "$corpus" >"$work.log" 2>&1 ||
            ! "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
                -artifact_prefix="$artifacts/$target-" "$work" "$corpus" >>"$work.log" 2>&1; then
            echo "fuzz_$target FAILED: input kept in $artifacts; add it to $corpus once fixed"
            tail -40 "$work.log"
            rm -rf "$work" "$work.log"
            return 1
        fi
        grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "$work.log" | tr '\n' ' '
        echo
    } >"$artifacts/$target.report" 2>&1
    local rc=$?
    rm -rf "$work" "$work.log"
    return $rc
}
targets=(cli decoders output http flamegraph triage_html web_config)
pids=()
for target in "${targets[@]}"; do
    fuzz_one "$target" &
    pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
    wait "${pids[$i]}" || status=1
    cat "$artifacts/${targets[$i]}.report"
    rm -f "$artifacts/${targets[$i]}.report"
done
exit $status
