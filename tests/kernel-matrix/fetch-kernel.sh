#!/usr/bin/env bash
# fetch-kernel.sh CACHE_DIR [SERIES]
#
# Fetch Debian's newest amd64 kernel of SERIES into CACHE_DIR, unpack it,
# and print the path of its vmlinuz on stdout (everything else goes to
# stderr). Idempotent: an unpacked kernel in the cache is reused, and with no
# network (or no apt lists) the newest cached kernel is used.
#
# SERIES: 6.1 (the default: bookworm's linux-image-6.1.0-N-amd64), 6.12
# (bookworm's linux-image-6.12.N+deb12-amd64, from its security and
# backports updates) or 6.1-arm64 (linux-image-6.1.0-N-arm64, with the arm64
# architecture added to dpkg). A package name (linux-image-...) pins that
# package.
#
# Environment:
#   CORESCOPE_KERNEL_PKG   pin a 6.1 package (e.g. linux-image-6.1.0-56-amd64)
#                          instead of the newest one apt knows about.
#   CORESCOPE_KERNEL_PKG_612  the same for 6.12 (linux-image-6.12.N+deb12-amd64)
#   CORESCOPE_KERNEL_PKG_ARM64  the same for 6.1-arm64 (linux-image-6.1.0-N-arm64)
#
# Layout of CACHE_DIR:
#   PKG_VERSION_ARCH.deb           what apt-get download fetched
#   PKG/boot/vmlinuz-*             the unpacked package (dpkg -x)
#   PKG/boot/vmlinux-*             ELF kernel unpacked from vmlinuz, which
#                                  qemu boots directly (PVH), ~3.5 s faster
#   PKG/lib/modules/*/...          its modules (run-in-vm.sh --disk uses a few)
#   PKG/.complete                  written last; a dir without it is redone
set -euo pipefail

prog=fetch-kernel.sh
log() { echo "$prog: $*" >&2; }
die() { echo "$prog: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: $prog CACHE_DIR [6.1|6.12|6.1-arm64|PACKAGE]"
mkdir -p "$1" || die "cannot create cache directory $1"
cache=$(cd "$1" && pwd)
series=${2:-6.1}
pin=""
# The generic amd64 flavour only (not -rt, -cloud, -dbg or -unsigned; the
# signed package carries the same bzImage with a signature qemu ignores).
case $series in
6.1) pin=${CORESCOPE_KERNEL_PKG:-}; pkg_re='^linux-image-6\.1\.0-[0-9]+-amd64$'; cache_glob='linux-image-6.1.0-*-amd64' ;;
6.12) pin=${CORESCOPE_KERNEL_PKG_612:-}; pkg_re='^linux-image-6\.12\.[0-9]+\+deb12-amd64$'; cache_glob='linux-image-6.12.*+deb12-amd64' ;;
# arm64: the same 6.1 series for 64-bit ARMv8 (needs `dpkg --add-architecture
# arm64` and `apt-get update` for apt to know it; a gzip'd Image, no PVH).
6.1-arm64) pin=${CORESCOPE_KERNEL_PKG_ARM64:-}; pkg_re='^linux-image-6\.1\.0-[0-9]+-arm64$'; cache_glob='linux-image-6.1.0-*-arm64' ;;
linux-image-*) pin=$series; pkg_re="^${series//./\\.}\$"; cache_glob=$series ;;
*) die "unknown kernel series '$series' (6.1, 6.12, 6.1-arm64 or a linux-image package)" ;;
esac

for tool in apt-cache apt-get dpkg dpkg-deb; do
    command -v "$tool" >/dev/null ||
        die "'$tool' not found: this script needs a Debian-based host (apt, dpkg)"
done

# Print the vmlinuz of an unpacked package dir, or fail.
vmlinuz_of() {
    local f
    [ -e "$1/.complete" ] || return 1
    for f in "$1"/boot/vmlinuz-*; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

# Unpack the ELF vmlinux from an xz (6.1) or zstd (6.12) bzImage, next to
# it as vmlinux-VER. Debian's kernels have CONFIG_PVH=y, so qemu can boot
# that ELF directly and skip the bzImage's own decompression, which under
# TCG costs about 3.5 s of every boot. Best effort: without it run-in-vm.sh
# boots vmlinuz.
make_pvh_vmlinux() {
    local vmlinuz=$1 out tmp off magic decomp
    out=$(dirname "$vmlinuz")/vmlinux-$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
    [ -s "$out" ] && return 0
    # arm64's vmlinuz is an Image ("ARMd" at 0x38), which qemu -M virt boots
    # as it is.
    [ "$(tail -c +57 "$vmlinuz" | head -c 4)" = ARMd ] && return 0
    tmp=$out.tmp
    for magic in xz zstd; do
        case $magic in
        xz) pattern='\xfd7zXZ\x00'; decomp=(xz -dc --single-stream) ;;
        zstd) pattern='\x28\xb5\x2f\xfd'; decomp=(zstd -dcq) ;;
        esac
        LC_ALL=C grep -qUaP "$pattern" "$vmlinuz" 2>/dev/null || continue
        command -v "${decomp[0]}" >/dev/null ||
            { log "${decomp[0]} not found (apt-get install ${decomp[0]/xz/xz-utils}): no PVH vmlinux"; return 0; }
        for off in $(LC_ALL=C grep -obUaP "$pattern" "$vmlinuz" 2>/dev/null | cut -d: -f1); do
            # The decompressor may stop at the end of its stream (or complain
            # of the bzImage's trailer after it), so tail may die of SIGPIPE:
            # judge by the ELF magic and the size of what came out.
            (set +o pipefail; tail -c +$((off + 1)) "$vmlinuz" | "${decomp[@]}" >"$tmp" 2>/dev/null) || true
            if [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] &&
                readelf -h "$tmp" >/dev/null 2>&1; then
                mv "$tmp" "$out"
                log "unpacked $(basename "$out") (ELF, for qemu PVH boot)"
                return 0
            fi
        done
    done
    rm -f "$tmp"
    log "could not unpack an ELF vmlinux from $(basename "$vmlinuz"); run-in-vm.sh will boot the bzImage"
}

# Newest cached kernel, for offline use.
newest_cached() {
    local d best=""
    # shellcheck disable=SC2086 # cache_glob is a glob
    for d in $(ls -d "$cache"/$cache_glob 2>/dev/null | sort -V); do
        vmlinuz_of "$d" >/dev/null && best=$d
    done
    [ -n "$best" ] && vmlinuz_of "$best"
}

# Candidates, newest first.
candidates() {
    apt-cache search --names-only "$pkg_re" 2>/dev/null |
        awk '{print $1}' | sort -rV
}

if [ -n "$pin" ]; then
    pkgs=$pin
else
    pkgs=$(candidates)
    if [ -z "$pkgs" ] && [ "$(id -u)" -eq 0 ]; then
        log "apt knows no $cache_glob; running apt-get update"
        apt-get update >&2 || log "apt-get update failed (offline?)"
        pkgs=$(candidates)
    fi
fi

if [ -z "$pkgs" ]; then
    if path=$(newest_cached); then
        log "apt lists have no $series kernel; using cached $path"
        echo "$path"
        exit 0
    fi
    die "no $cache_glob known to apt and none cached in $cache
  (this needs Debian 12 'bookworm' apt sources and 'apt-get update')"
fi

tried=0
for pkg in $pkgs; do
    dir=$cache/$pkg
    if path=$(vmlinuz_of "$dir"); then
        make_pvh_vmlinux "$path"
        echo "$path"
        exit 0
    fi
    # Only the three newest: older ABIs may have left the archive, and the
    # cache fallback below is better than an old download.
    tried=$((tried + 1))
    [ $tried -le 3 ] || break

    deb=$(ls "$cache/${pkg}"_*_{amd64,arm64}.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$deb" ]; then
        log "downloading $pkg"
        # -o APT::Sandbox::User=root: the _apt user cannot write to an
        # arbitrary cache dir; without it apt warns and runs as root anyway.
        if ! (cd "$cache" && apt-get download -o APT::Sandbox::User=root "$pkg" >&2); then
            log "could not download $pkg"
            continue
        fi
        deb=$(ls "$cache/${pkg}"_*_{amd64,arm64}.deb 2>/dev/null | sort -V | tail -n 1 || true)
        [ -n "$deb" ] || { log "apt-get download left no .deb for $pkg"; continue; }
    fi

    log "unpacking $(basename "$deb")"
    tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
    if ! dpkg -x "$deb" "$tmp"; then
        rm -rf "$tmp"
        log "dpkg -x failed on $deb (corrupt download?); removing it"
        rm -f "$deb"
        continue
    fi
    if ! ls "$tmp"/boot/vmlinuz-* >/dev/null 2>&1; then
        rm -rf "$tmp"
        log "$deb has no /boot/vmlinuz-*"
        continue
    fi
    rm -rf "$dir"
    touch "$tmp/.complete"
    mv "$tmp" "$dir"
    path=$(vmlinuz_of "$dir")
    make_pvh_vmlinux "$path"
    echo "$path"
    exit 0
done

if path=$(newest_cached); then
    log "no newer kernel could be fetched; using cached $path"
    echo "$path"
    exit 0
fi
die "could not fetch any of: $(echo "$pkgs" | head -n 3 | tr '\n' ' ') (network down? try 'apt-get update')"
