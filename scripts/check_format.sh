#!/bin/bash
# The format suite: every C and C++ file of user space matches
# .clang-format, every file the kernel side compiles matches
# .clang-format-bpf (the kernel's style, tabs), with Debian 12's
# clang-format (14). Generated files are left out. --fix rewrites the files
# instead of checking them. Outside a git checkout (an unpacked tarball)
# there is no file list: exit 77, a skip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fix=false
[ "${1:-}" = --fix ] && fix=true
if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "check_format.sh: not a git checkout, no file list: skipped"
    exit 77
fi
format=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$format" ]; then
    echo "check_format.sh: clang-format is missing (scripts/setup.sh installs it)" >&2
    exit 1
fi

generated='^(bpf/syscall_nr\.bpf\.h|common/syscall_names\.h)$'
kernel_side='(\.bpf\.[ch]$|^bpf/|^tools/[^/]+/[^/]+\.h$|^frontend/triage_bpf\.h$)'
mapfile -t kernel < <(git ls-files '*.c' '*.h' | grep -Ev "$generated" | grep -E "$kernel_side" |
    grep -v '^vmlinux/')
mapfile -t user < <(git ls-files '*.c' '*.h' '*.cpp' | grep -Ev "$generated" |
    grep -Ev "$kernel_side" | grep -Ev '^(vmlinux|subprojects)/')

if $fix; then
    "$format" -i --style=file "${user[@]}"
    "$format" -i --style=file:.clang-format-bpf "${kernel[@]}"
    exit 0
fi
status=0
# One clang-format for all files of a style (one per file took a minute):
# it names each file that differs on its warnings' "FILE:LINE:COL: error:".
check() { # STYLE FILE...
    local style=$1 f rc=0 report unformatted
    shift
    report=$("$format" --dry-run --Werror --style="$style" "$@" 2>&1 >/dev/null) || rc=$?
    unformatted=$(sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' \
        <<<"$report" | sort -u)
    for f in $unformatted; do
        echo "not formatted: $f (scripts/check_format.sh --fix)"
    done
    if [ $rc != 0 ]; then
        # A failure that names no file: clang-format could not read one.
        [ -n "$unformatted" ] || tail -n 5 <<<"$report" >&2
        status=1
    fi
}
check file "${user[@]}"
check file:.clang-format-bpf "${kernel[@]}"
echo "format: ${#user[@]} user-space and ${#kernel[@]} kernel-side files checked"
exit $status
