#!/usr/bin/env bash
# Build corescope-probe, a static binary that tests which BPF attach types
# the running kernel offers. Usage: build.sh [OUT_DIR]   (default: ./build)
# Prints the path of the binary on stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=${1:-$here/build}
mkdir -p "$out"
out=$(cd "$out" && pwd)

die() { echo "selftest/build.sh: error: $*" >&2; exit 1; }

# tool -> Debian package that provides it
need=()
command -v clang >/dev/null || need+=(clang)
command -v bpftool >/dev/null || need+=(bpftool)
command -v gcc >/dev/null || need+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libbpf.a ] || need+=(libbpf-dev)
[ -e /usr/lib/x86_64-linux-gnu/libelf.a ] || need+=(libelf-dev)
[ -e /usr/lib/x86_64-linux-gnu/libz.a ] || need+=(zlib1g-dev)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "selftest/build.sh: installing ${need[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
            { apt-get update >&2 && apt-get install -y --no-install-recommends "${need[@]}" >&2; } ||
            die "could not install: ${need[*]}"
    else
        die "missing build dependencies; install the Debian packages: ${need[*]}"
    fi
fi

# vmlinux.h: the repo's copy if there is one, else generate it from this
# kernel's BTF.
vmlinux_h=$repo/vmlinux/x86/vmlinux.h
if [ ! -s "$vmlinux_h" ]; then
    [ -r /sys/kernel/btf/vmlinux ] ||
        die "no $repo/vmlinux/x86/vmlinux.h and no /sys/kernel/btf/vmlinux to generate one from"
    vmlinux_h=$out/vmlinux.h
    bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$vmlinux_h"
fi
mkdir -p "$out/include"
ln -sf "$vmlinux_h" "$out/include/vmlinux.h"

clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$out/include" \
    -c "$here/probe.bpf.c" -o "$out/probe.bpf.o"
bpftool gen skeleton "$out/probe.bpf.o" name probe_bpf >"$out/probe.skel.h"

# Debian 12: libbpf.a needs libelf.a and libz.a, nothing more (elfutils
# 0.188's libelf.a has no zstd references).
gcc -O2 -g -Wall -Wextra -static -I"$out" "$here/probe.c" -o "$out/corescope-probe" \
    -lbpf -lelf -lz

echo "$out/corescope-probe"
