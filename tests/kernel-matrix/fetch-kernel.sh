#!/usr/bin/env bash
# fetch-kernel.sh CACHE_DIR
#
# Fetch Debian's newest linux-image-6.1.0-N-amd64 into CACHE_DIR, unpack it,
# and print the path of its vmlinuz on stdout (everything else goes to
# stderr). Idempotent: an unpacked kernel in the cache is reused, and with no
# network (or no apt lists) the newest cached kernel is used.
#
# Environment:
#   CORESCOPE_KERNEL_PKG   pin a package (e.g. linux-image-6.1.0-56-amd64)
#                          instead of the newest one apt knows about.
#
# Layout of CACHE_DIR:
#   PKG_VERSION_amd64.deb          what apt-get download fetched
#   PKG/boot/vmlinuz-*             the unpacked package (dpkg -x)
#   PKG/boot/vmlinux-*             ELF kernel unpacked from vmlinuz, which
#                                  qemu boots directly (PVH), ~3.5 s faster
#   PKG/lib/modules/*/...          its modules (run-in-vm.sh --disk uses a few)
#   PKG/.complete                  written last; a dir without it is redone
set -euo pipefail

prog=fetch-kernel.sh
log() { echo "$prog: $*" >&2; }
die() { echo "$prog: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $prog CACHE_DIR"
mkdir -p "$1" || die "cannot create cache directory $1"
cache=$(cd "$1" && pwd)

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

# Unpack the ELF vmlinux from an xz bzImage, next to it as vmlinux-VER.
# Debian's 6.1 kernel has CONFIG_PVH=y, so qemu can boot that ELF directly
# and skip the bzImage's own xz decompression, which under TCG costs about
# 3.5 s of every boot. Best effort: without it run-in-vm.sh boots vmlinuz.
make_pvh_vmlinux() {
    local vmlinuz=$1 out tmp off
    out=$(dirname "$vmlinuz")/vmlinux-$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
    [ -s "$out" ] && return 0
    command -v xz >/dev/null || { log "xz not found (apt-get install xz-utils): no PVH vmlinux"; return 0; }
    tmp=$out.tmp
    for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" 2>/dev/null | cut -d: -f1); do
        # xz stops at the end of its stream, so tail may die of SIGPIPE:
        # judge the pair by xz's status alone.
        if (set +o pipefail; tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$tmp" 2>/dev/null) &&
            [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
            mv "$tmp" "$out"
            log "unpacked $(basename "$out") (ELF, for qemu PVH boot)"
            return 0
        fi
    done
    rm -f "$tmp"
    log "could not unpack an ELF vmlinux from $(basename "$vmlinuz"); run-in-vm.sh will boot the bzImage"
}

# Newest cached kernel, for offline use.
newest_cached() {
    local d best=""
    for d in $(ls -d "$cache"/linux-image-6.1.0-*-amd64 2>/dev/null | sort -V); do
        vmlinuz_of "$d" >/dev/null && best=$d
    done
    [ -n "$best" ] && vmlinuz_of "$best"
}

# Candidates, newest first: the generic amd64 flavour only (not -rt,
# -cloud, -dbg or -unsigned; the signed package carries the same bzImage
# with a signature qemu ignores).
candidates() {
    apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
        awk '{print $1}' | sort -rV
}

if [ -n "${CORESCOPE_KERNEL_PKG:-}" ]; then
    pkgs=$CORESCOPE_KERNEL_PKG
else
    pkgs=$(candidates)
    if [ -z "$pkgs" ] && [ "$(id -u)" -eq 0 ]; then
        log "apt knows no linux-image-6.1.0-*-amd64; running apt-get update"
        apt-get update >&2 || log "apt-get update failed (offline?)"
        pkgs=$(candidates)
    fi
fi

if [ -z "$pkgs" ]; then
    if path=$(newest_cached); then
        log "apt lists have no 6.1 kernel; using cached $path"
        echo "$path"
        exit 0
    fi
    die "no linux-image-6.1.0-*-amd64 known to apt and none cached in $cache
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

    deb=$(ls "$cache/${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$deb" ]; then
        log "downloading $pkg"
        # -o APT::Sandbox::User=root: the _apt user cannot write to an
        # arbitrary cache dir; without it apt warns and runs as root anyway.
        if ! (cd "$cache" && apt-get download -o APT::Sandbox::User=root "$pkg" >&2); then
            log "could not download $pkg"
            continue
        fi
        deb=$(ls "$cache/${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
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
