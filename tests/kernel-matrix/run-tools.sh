#!/bin/bash
# The kernel-matrix suite: boots Debian's 6.1 and 6.12 kernels under qemu
# with the build's corescope-static, and runs guest-checks.sh there, so each
# tool is shown to work on more kernels (with kprobes and fentry) from the
# same binary. Run as root from anywhere (CORESCOPE_BUILD_DIR: the build,
# ./build by default); used by `meson test --suite kernel-matrix`.
#
#   run-tools.sh [--kernel SERIES]... [TOOL...]
#
# --kernel 6.1 or 6.12 (repeatable; default both, or CORESCOPE_KM_KERNELS):
# the guests to boot. Both boot at once, each qemu on one host thread, their
# lines prefixed with the kernel's series. TOOLs: only those tools' sections.
# The 6.1 guest also runs the no-BTF phase (guest-checks.sh, "nobtf"):
# /sys/kernel/btf hidden, tools run with and without --btf.
# CORESCOPE_STATIC: a corescope-static to use instead of building one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${CORESCOPE_BUILD_DIR:-$root/build}

kernels=()
while [ $# -gt 0 ]; do
    case $1 in
    --kernel)
        [ $# -ge 2 ] || { echo "run-tools.sh: --kernel needs 6.1 or 6.12" >&2; exit 2; }
        kernels+=("$2"); shift 2 ;;
    --kernel=*) kernels+=("${1#--kernel=}"); shift ;;
    *) break ;;
    esac
done
[ ${#kernels[@]} -gt 0 ] || read -r -a kernels <<<"${CORESCOPE_KM_KERNELS:-6.1 6.12}"
for k in "${kernels[@]}"; do
    case $k in 6.1 | 6.12) ;; *) echo "run-tools.sh: unknown kernel '$k' (6.1 or 6.12)" >&2; exit 2 ;; esac
done

static=${CORESCOPE_STATIC:-}
if [ -z "$static" ]; then
    if ! out=$(ninja -C "$build" corescope-static 2>&1); then
        echo "$out" | tail -n 30 >&2
        echo "run-tools.sh: cannot build corescope-static in $build (ninja's output above)" >&2
        exit 1
    fi
    static=$build/corescope-static
fi

files=$(mktemp -d /tmp/corescope-km.XXXXXX)
trap 'rm -rf "$files"' EXIT
# Without its debug information: the guest's initramfs holds it in memory.
strip --strip-debug -o "$files/corescope" "$static"
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
# Each guest's lines go through a prefix ([6.1], [6.12]) when more than one
# boots; its status goes to a file, as the prefixing pipe hides it.
# md_mod, raid1 and loop: mdflush makes an md RAID1 of two loop devices.
# The timeout (meson's is 1800 s): a 6.12 guest alone under a load average
# of 12 to 13 had run 864 s of checks and was not done.
guest() { # SERIES [TOOL...]
    local series=$1 status=0 extra=()
    shift
    # The no-BTF phase runs in the 6.1 boot, after the other checks.
    [ "$series" != 6.1 ] || extra=(--nobtf-phase)
    "$here/run-in-vm.sh" --series "$series" --files "$files" --disk 64 --ext4 --memory 2048 --timeout 1500 \
        --module md_mod --module raid1 --module loop \
        --append softlockup_panic=1 -- \
        sh /corescope/guest-checks.sh "${extra[@]}" "$@" || status=$?
    echo $status >"$files/status-$series"
}
shift_args=("$@")
t0=$EPOCHREALTIME
if [ ${#kernels[@]} -eq 1 ]; then
    guest "${kernels[0]}" "${shift_args[@]}"
else
    for k in "${kernels[@]}"; do
        guest "$k" "${shift_args[@]}" 2>&1 | sed -u "s/^/[$k] /" &
    done
    wait
fi
status=0
for k in "${kernels[@]}"; do
    s=$(cat "$files/status-$k" 2>/dev/null || echo 123)
    echo "run-tools.sh: $k guest: exit $s"
    [ "$s" = 0 ] || status=1
done
echo "run-tools.sh: ${kernels[*]}: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s in all"
exit $status
