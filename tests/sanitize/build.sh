#!/bin/bash
# Configures (once) and builds the sanitized tree that the sanitize and fuzz
# suites use: clang, AddressSanitizer and UndefinedBehaviorSanitizer (every
# report fatal), and the libFuzzer targets. Usage: build.sh DIR [TARGET...]
# (no TARGET: everything). CORESCOPE_SKELETONS_FROM: a built tree whose
# BPF skeletons it takes (-Dskeletons_from) when it first configures.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: build.sh DIR [TARGET...]}
shift

# The sanitize and fuzz suites may start this at once: one build at a time.
exec 9>"$build.lock"
flock 9
if [ ! -f "$build/build.ninja" ]; then
    # -O1 and line tables only: what reports need (file and line of every
    # frame), and a fifth less compile time than -O2 with full debug
    # information (test_flags.cpp: 24 s against 31 s), on the largest build
    # of the time budget (docs/architecture.md).
    # Multi-call: each tool a symlink to one sanitized corescope, which
    # spares linking every tool again with the sanitizers' runtimes.
    # No --as-needed: ASan's own crypt_r satisfies the link, which then
    # dropped libcrypt, and its interceptor called address 0 (corescope
    # export's bcrypt check). No man pages or completions (its tests read
    # neither), and the main
    # tree's BPF skeletons where CORESCOPE_SKELETONS_FROM names it (meson
    # test does): each took the budget about a minute, docs/architecture.md.
    CC=clang CXX=clang++ meson setup "$build" "$root" \
        -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true -Dintegration_tests=false \
        -Dmulticall=true -Dman=disabled -Dcompletions=false -Db_asneeded=false \
        -Dskeletons_from="${CORESCOPE_SKELETONS_FROM:-}" \
        -Doptimization=1 -Ddebug=false \
        -Dc_args='-fno-sanitize-recover=all -fno-omit-frame-pointer -gline-tables-only' \
        -Dcpp_args='-fno-sanitize-recover=all -fno-omit-frame-pointer -gline-tables-only' >/dev/null
fi
# Quiet when it works; on a failure, the end of ninja's output says why
# (meson test shows only what this script prints).
if ! ninja -C "$build" "$@" >"$build.log" 2>&1; then
    echo "build.sh: the sanitized build failed; the end of $build.log:" >&2
    tail -n 40 "$build.log" >&2
    exit 1
fi
