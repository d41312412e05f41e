#!/bin/bash
# The kernel-matrix suite: builds corescope statically, boots Debian's 6.1
# kernel under qemu with it, and runs guest-checks.sh there, so each tool is
# shown to work on a second kernel (one with kprobes and fentry) from the
# same binary. Run as root from anywhere; used by `meson test --suite
# kernel-matrix`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
static_build=${CORESCOPE_STATIC_BUILD:-$root/build-static}

# The same options as the packaging suite's static test, which shares this
# build dir (tests/packaging/check_static.py).
if [ ! -f "$static_build/build.ninja" ]; then
    meson setup "$static_build" "$root" -Dstatic=true -Dmulticall=true -Dtests=false -Ddebug=false >/dev/null
fi
ninja -C "$static_build" corescope >/dev/null

files=$(mktemp -d /tmp/corescope-km.XXXXXX)
trap 'rm -rf "$files"' EXIT
cp "$static_build/corescope" "$files/"
for tool in $("$files/corescope" list | cut -d' ' -f1) ext4slower xfsslower btrfsslower nfsslower \
    killsnoop; do
    ln -s corescope "$files/$tool"
done
cp "$here/guest-checks.sh" "$files/"
# The workloads busybox cannot make (workload.c), linked against the host's
# glibc, which comes along: the guest is busybox-static and has no C
# library of its own, and gethostlatency needs one to attach its uprobes to.
gcc -O1 -g -fno-omit-frame-pointer -Wall -o "$files/km-workload" "$here/workload.c"
mkdir "$files/lib"
libc=$(ldd "$files/km-workload" | awk '/libc\.so/ {print $3}')
loader=$(readelf -l "$files/km-workload" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
cp -L "$libc" "$files/lib/libc.so.6"
cp -L "$loader" "$files/lib/ld-linux-x86-64.so.2"
# One boot for every tool: an ext4 scratch disk (formatted here) for the
# block and file-system tools, memory for some 10 tools side by side. A
# soft lockup panics the guest, so the suite fails at once with the
# kernel's message instead of at the timeout.
# Not exec: the EXIT trap must still remove the files (54 MB a run).
status=0
"$here/run-in-vm.sh" --files "$files" --disk 64 --ext4 --memory 2048 --timeout 900 \
    --append softlockup_panic=1 -- \
    sh /corescope/guest-checks.sh "$@" || status=$?
exit $status
