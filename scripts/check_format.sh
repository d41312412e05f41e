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
check() { # STYLE FILE...
    local style=$1 f
    shift
    for f in "$@"; do
        if ! "$format" --dry-run --Werror --style="$style" "$f" >/dev/null 2>&1; then
            echo "not formatted: $f (scripts/check_format.sh --fix)"
            status=1
        fi
    done
}
check file "${user[@]}"
check file:.clang-format-bpf "${kernel[@]}"
echo "format: ${#user[@]} user-space and ${#kernel[@]} kernel-side files checked"
exit $status
