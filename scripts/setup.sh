#!/bin/bash
# Prepares a Debian 12 machine to build and run corescope: installs the
# packages that are missing, mounts tracefs when it is not mounted, and
# configures and builds the tree in ./build. Run as root from anywhere.
#
#     scripts/setup.sh [--arm64] [PACKAGE...]
#
# --arm64 also prepares the arm64 cross build (cross/aarch64-linux-gnu.ini)
# and the kernel-matrix suite's arm64 guest: dpkg's arm64 architecture
# (multiarch), Debian's aarch64 cross compiler, the arm64 libraries, qemu's
# arm64 system and user-mode emulators. PACKAGEs are installed too.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${CORESCOPE_BUILD_DIR:-$root/build}

packages=(
    meson ninja-build pkg-config g++ clang llvm
    libbpf-dev bpftool libelf-dev zlib1g-dev
    libdw-dev # symbolization of user stacks (profile, offcputime)
    libbz2-dev # libdw.a needs libbz2.a in static builds (-Dstatic=true)
    catch2 nlohmann-json3-dev
    libssl-dev        # corescope export's TLS; sslsniff's test makes TLS traffic of its own
    libcrypt-dev      # corescope export's basic authentication (bcrypt, crypt_r)
    openssl           # sslsniff's tests: s_server (a container's libssl), the guest's s_client
    nftables iproute2 # tcpretrans's test drops packets in a network namespace
    sysstat procps    # triage's figures are checked against mpstat, iostat, sar, pidstat, vmstat, free
    pandoc            # the man pages (docs/man/*.8.md)
    e2fsprogs         # the kernel-matrix suite formats its ext4 scratch disk
    debhelper zsh     # the packaging suite: the Debian package, zsh completion
    clang-format      # the format suite (scripts/check_format.sh)
    systemtap-sdt-dev # <sys/sdt.h>: the USDT probe of funccount's test workload
    openjdk-17-jre-headless # javagc's tests run real JVMs (hotspot's USDT probes in libjvm.so)
    libclang-rt-14-dev # libFuzzer and the sanitizer runtimes (sanitize and fuzz suites)
    prometheus        # corescope export's test scrapes it with the real server (and promtool)
    chromium          # the browser suite: flame graphs (and the HTML report) in headless Chromium
)
arm64=false
if [ "${1:-}" = --arm64 ]; then
    arm64=true
    shift
fi
packages+=("$@") # extra packages a caller needs
if $arm64; then
    packages+=(
        g++-aarch64-linux-gnu pkg-config:arm64 # the cross compiler, aarch64-linux-gnu-pkg-config
        libbpf-dev:arm64 libelf-dev:arm64 libdw-dev:arm64 zlib1g-dev:arm64 libbz2-dev:arm64
        liblzma-dev:arm64 libssl-dev:arm64 libcrypt-dev:arm64 libc6-dev:arm64 libstdc++-12-dev:arm64
        systemtap-sdt-dev:arm64 # <sys/sdt.h> for the arm64 km-workload (kernel-matrix)
        qemu-user-static # runs arm64 corescope in the cross build (completions, unit tests)
        qemu-system-arm  # the kernel-matrix suite's arm64 guest (qemu-system-aarch64)
    )
fi

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root (it installs packages and mounts tracefs)" >&2
    exit 1
fi

if $arm64 && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "setup.sh: adding dpkg's arm64 architecture (multiarch)"
    dpkg --add-architecture arm64
    apt-get update -qq
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Syscall tracepoints need tracefs; the tools fall back without it, but the
# cheaper attach points and the tests want it.
if [ ! -d /sys/kernel/tracing/events ]; then
    mount -t tracefs tracefs /sys/kernel/tracing
fi

if [ ! -f "$build_dir/build.ninja" ]; then
    meson setup "$build_dir" "$root" >/dev/null
fi
ninja -C "$build_dir" >/dev/null
echo "setup.sh: built in $build_dir"
