#!/bin/bash
# The kernel-matrix suite: boots Debian's 6.1 kernel under qemu with the
# build's corescope-static, and runs guest-checks.sh there, so each tool is
# shown to work on a second kernel (one with kprobes and fentry) from the
# same binary. Run as root from anywhere (CORESCOPE_BUILD_DIR: the build,
# ./build by default); used by `meson test --suite kernel-matrix`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${CORESCOPE_BUILD_DIR:-$root/build}

if ! out=$(ninja -C "$build" corescope-static 2>&1); then
    echo "$out" | tail -n 30 >&2
    echo "run-tools.sh: cannot build corescope-static in $build (ninja's output above)" >&2
    exit 1
fi

files=$(mktemp -d /tmp/corescope-km.XXXXXX)
trap 'rm -rf "$files"' EXIT
# Without its debug information: the guest's initramfs holds it in memory.
strip --strip-debug -o "$files/corescope" "$build/corescope-static"
for tool in $("$files/corescope" list | cut -d' ' -f1) ext4slower xfsslower btrfsslower nfsslower \
    ext4dist xfsdist btrfsdist nfsdist killsnoop; do
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
# bashreadline's bash and sslsniff's OpenSSL (the openssl program, libssl,
# libcrypto), with what they link, and a throwaway key and certificate for
# the TLS server made here.
cp -L /bin/bash "$files/lib/bash"
for lib in $(ldd /bin/bash /usr/bin/openssl | awk '/=> \// {print $3}' | sort -u); do
    [ "${lib##*/}" = libc.so.6 ] || cp -L "$lib" "$files/lib/"
done
cp -L /usr/bin/openssl "$files/lib/openssl"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=km \
    -keyout "$files/km-key.pem" -out "$files/km-cert.pem" 2>/dev/null
# One boot for every tool: an ext4 scratch disk (formatted here) for the
# block and file-system tools, memory for some 10 tools side by side. A
# soft lockup panics the guest, so the suite fails at once with the
# kernel's message instead of at the timeout.
# Not exec: the EXIT trap must still remove the files (54 MB a run).
status=0
# md_mod, raid1 and loop: mdflush makes an md RAID1 of two loop devices.
"$here/run-in-vm.sh" --files "$files" --disk 64 --ext4 --memory 2048 --timeout 900 \
    --module md_mod --module raid1 --module loop \
    --append softlockup_panic=1 -- \
    sh /corescope/guest-checks.sh "$@" || status=$?
exit $status
