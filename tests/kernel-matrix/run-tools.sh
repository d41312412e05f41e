#!/bin/bash
# The kernel-matrix suite: boots Debian's 6.1 and 6.12 kernels under qemu
# with the build's corescope-static, and runs guest-checks.sh there, so each
# tool is shown to work on more kernels (with kprobes and fentry) from the
# same binary. Run as root from anywhere (CORESCOPE_BUILD_DIR: the build,
# ./build by default); used by `meson test --suite kernel-matrix`.
#
#   run-tools.sh [--kernel SERIES]... [TOOL...]
#
# --kernel 6.1, 6.12 or 6.1-arm64 (repeatable; default 6.1 and 6.12, or
# CORESCOPE_KM_KERNELS): the guests to boot. They boot at once, each qemu on
# one host thread, their lines prefixed with the kernel's series. TOOLs:
# only those tools' sections. The 6.1 guest also runs the no-BTF phase
# (guest-checks.sh, "nobtf"): /sys/kernel/btf hidden, tools run with and
# without --btf.
# CORESCOPE_STATIC: a corescope-static to use instead of building one.
# 6.1-arm64: Debian's arm64 6.1 under qemu-system-aarch64, with the arm64
# corescope-static of the cross build in CORESCOPE_ARM64_BUILD_DIR
# (./build-arm64 by default, configured with cross/aarch64-linux-gnu.ini
# and CORESCOPE_ARM64_MESON_ARGS when missing; CORESCOPE_STATIC_ARM64: one
# already built), an arm64 km-workload
# (aarch64-linux-gnu-gcc) and arm64 glibc, bash and openssl (Debian's
# packages, unpacked into the kernel cache). scripts/setup.sh --arm64
# installs what that needs. Without TOOLs the arm64 guest runs a
# representative set of sections (CORESCOPE_KM_ARM64_SECTIONS, below);
# CORESCOPE_KM_ARM64_SECTIONS=all runs every one (the kernel-matrix-arm64
# suite).
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
arm64=false
for k in "${kernels[@]}"; do
    case $k in
    6.1 | 6.12) ;;
    6.1-arm64) arm64=true ;;
    *) echo "run-tools.sh: unknown kernel '$k' (6.1, 6.12 or 6.1-arm64)" >&2; exit 2 ;;
    esac
done
x86=false
for k in "${kernels[@]}"; do [ "$k" = 6.1-arm64 ] || x86=true; done

# static_of BUILD_DIR: builds corescope-static there (or fails naming it).
static_of() {
    if ! out=$(ninja -C "$1" corescope-static 2>&1); then
        echo "$out" | tail -n 30 >&2
        echo "run-tools.sh: cannot build corescope-static in $1 (ninja's output above)" >&2
        exit 1
    fi
    echo "$1/corescope-static"
}
if $x86; then
    static=${CORESCOPE_STATIC:-}
    [ -n "$static" ] || static=$(static_of "$build")
fi
if $arm64; then
    static_arm64=${CORESCOPE_STATIC_ARM64:-}
    if [ -z "$static_arm64" ]; then
        build_arm64=${CORESCOPE_ARM64_BUILD_DIR:-$root/build-arm64}
        if [ ! -f "$build_arm64/build.ninja" ]; then
            # shellcheck disable=SC2086 # meson options, one a word
            meson setup "$build_arm64" "$root" --cross-file "$root/cross/aarch64-linux-gnu.ini" -Dtests=false \
                ${CORESCOPE_ARM64_MESON_ARGS:-} >&2 ||
                { echo "run-tools.sh: cannot configure the arm64 cross build in $build_arm64 (scripts/setup.sh --arm64)" >&2; exit 1; }
        fi
        static_arm64=$(static_of "$build_arm64")
    fi
fi

tmp=$(mktemp -d /tmp/corescope-km.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# A throwaway key and certificate for sslsniff's TLS server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=km \
    -keyout "$tmp/km-key.pem" -out "$tmp/km-cert.pem" 2>/dev/null

# The files of one architecture's guests: corescope (without its debug
# information: the guest's initramfs holds it in memory) and a link per
# tool, guest-checks.sh, the workloads busybox cannot make (workload.c)
# linked against glibc, which comes along (the guest is busybox-static and
# has no C library of its own; gethostlatency needs one to attach its
# uprobes to), and bashreadline's bash and sslsniff's OpenSSL (the openssl
# program, libssl, libcrypto) with what they link.
files_for() { # DIR STATIC STRIP CC RUN...
    local dir=$1 static=$2 strip=$3 cc=$4 tool
    shift 4
    mkdir -p "$dir/lib"
    "$strip" --strip-debug -o "$dir/corescope" "$static"
    for tool in $("$@" "$dir/corescope" list | cut -d' ' -f1) ext4slower xfsslower btrfsslower nfsslower \
        ext4dist xfsdist btrfsdist nfsdist killsnoop; do
        ln -s corescope "$dir/$tool"
    done
    cp "$here/guest-checks.sh" "$tmp/km-key.pem" "$tmp/km-cert.pem" "$dir/"
    "$cc" -O1 -g -fno-omit-frame-pointer -Wall -o "$dir/km-workload" "$here/workload.c"
}
if $x86; then
    files=$tmp/x86_64
    files_for "$files" "$static" strip gcc env
    libc=$(ldd "$files/km-workload" | awk '/libc\.so/ {print $3}')
    loader=$(readelf -l "$files/km-workload" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
    cp -L "$libc" "$files/lib/libc.so.6"
    cp -L "$loader" "$files/lib/"
    cp -L /bin/bash "$files/lib/bash"
    for lib in $(ldd /bin/bash /usr/bin/openssl | awk '/=> \// {print $3}' | sort -u); do
        [ "${lib##*/}" = libc.so.6 ] || cp -L "$lib" "$files/lib/"
    done
    cp -L /usr/bin/openssl "$files/lib/openssl"
fi
if $arm64; then
    files_arm64=$tmp/arm64
    files_for "$files_arm64" "$static_arm64" aarch64-linux-gnu-strip aarch64-linux-gnu-gcc qemu-aarch64-static
    # glibc from the cross build's own (libc6:arm64, multiarch); bash and
    # openssl from Debian's arm64 packages, unpacked (they cannot be
    # installed beside the amd64 ones) into the kernel cache once.
    userland=${CORESCOPE_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/corescope/kernel-matrix}/userland-arm64
    if [ ! -e "$userland/.complete" ]; then
        rm -rf "$userland" && mkdir -p "$userland/debs"
        (cd "$userland/debs" && apt-get download -o APT::Sandbox::User=root \
            bash:arm64 libtinfo6:arm64 openssl:arm64 libssl3:arm64 >&2) ||
            { echo "run-tools.sh: could not download arm64 bash and openssl (scripts/setup.sh --arm64)" >&2; exit 1; }
        for deb in "$userland"/debs/*.deb; do dpkg-deb -x "$deb" "$userland/root"; done
        touch "$userland/.complete"
    fi
    cp -L /lib/aarch64-linux-gnu/libc.so.6 "$files_arm64/lib/libc.so.6"
    cp -L /lib/ld-linux-aarch64.so.1 "$files_arm64/lib/"
    cp -L "$userland/root/bin/bash" "$files_arm64/lib/bash"
    cp -L "$userland/root/usr/bin/openssl" "$files_arm64/lib/openssl"
    cp -L "$userland"/root/lib/aarch64-linux-gnu/libtinfo.so.6 \
        "$userland"/root/usr/lib/aarch64-linux-gnu/libssl.so.3 \
        "$userland"/root/usr/lib/aarch64-linux-gnu/libcrypto.so.3 "$files_arm64/lib/"
fi
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
# The arm64 guest's representative set: doctor (always), the system-call
# tools (arm64's own numbers on the raw tier, syscount's names), the
# capability checks (fexit there falls to kprobe: no BPF trampolines on
# arm64 6.1), TCP, block I/O, stacks and perf_event, uprobes in arm64's
# glibc, kprobes and the page cache. The kernel-matrix-arm64-quick test
# builds only their tools (tests/meson.build, km_arm64_quick_tools: every
# tool named in these sections' headers in guest-checks.sh).
arm64_sections=${CORESCOPE_KM_ARM64_SECTIONS:-execsnoop capable tcpconnect biolatency syscount vfscount funccount gethostlatency memleak cachestat}
guest() { # SERIES [TOOL...]
    local series=$1 status=0 extra=() dir=${files:-}
    shift
    # The no-BTF phase runs in the 6.1 boot, after the other checks.
    [ "$series" != 6.1 ] || extra=(--nobtf-phase)
    if [ "$series" = 6.1-arm64 ]; then
        dir=$files_arm64
        # shellcheck disable=SC2086 # a list of section names
        [ $# -gt 0 ] || [ "$arm64_sections" = all ] || set -- $arm64_sections
    fi
    "$here/run-in-vm.sh" --series "$series" --files "$dir" --disk 64 --ext4 --memory 2048 --timeout 1500 \
        --module md_mod --module raid1 --module loop \
        --append softlockup_panic=1 -- \
        sh /corescope/guest-checks.sh "${extra[@]}" "$@" || status=$?
    echo $status >"$tmp/status-$series"
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
    s=$(cat "$tmp/status-$k" 2>/dev/null || echo 123)
    echo "run-tools.sh: $k guest: exit $s"
    [ "$s" = 0 ] || status=1
done
echo "run-tools.sh: ${kernels[*]}: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s in all"
exit $status
