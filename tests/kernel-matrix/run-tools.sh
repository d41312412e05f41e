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
    meson setup "$static_build" "$root" -Dstatic=true -Dmulticall=true -Dtests=false >/dev/null
fi
ninja -C "$static_build" corescope >/dev/null

files=$(mktemp -d /tmp/corescope-km.XXXXXX)
trap 'rm -rf "$files"' EXIT
cp "$static_build/corescope" "$files/"
for tool in $("$files/corescope" list | cut -d' ' -f1); do
    ln -s corescope "$files/$tool"
done
cp "$here/guest-checks.sh" "$files/"
# The guest is busybox-static and has no C library of its own: give
# gethostlatency the host's glibc to attach its uprobes to.
cp "$(ldd /bin/true | awk '/libc\.so/ {print $3}')" "$files/libc.so.6"
exec "$here/run-in-vm.sh" --files "$files" --disk 16 --raw-disk --timeout 600 -- sh /corescope/guest-checks.sh
