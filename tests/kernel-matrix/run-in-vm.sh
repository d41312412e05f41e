#!/usr/bin/env bash
# run-in-vm.sh: run a command inside Debian's 6.1 (or 6.12, or arm64 6.1) kernel under qemu (TCG).
#
#   run-in-vm.sh [options] [--files DIR] -- COMMAND [ARG...]
#
# Builds a busybox-static initramfs that holds DIR at /corescope (on PATH),
# boots it with qemu, runs COMMAND as root in the guest, streams the guest's
# serial console to stdout, and exits with COMMAND's exit status.
#
# Options:
#   --kernel VMLINUZ   kernel to boot (default: fetch-kernel.sh's 6.1 kernel,
#                      cached in $CORESCOPE_KERNEL_CACHE or
#                      ~/.cache/corescope/kernel-matrix)
#   --series SERIES    without --kernel: fetch-kernel.sh's kernel of SERIES
#                      (6.1, the default, 6.12, or 6.1-arm64: Debian's arm64
#                      6.1 under qemu-system-aarch64 -M virt, with an arm64
#                      busybox-static; the files must be arm64 programs)
#   --arch ARCH        x86_64 (default) or arm64: the guest's architecture,
#                      for --kernel (--series 6.1-arm64 implies arm64)
#   --files DIR        copied to /corescope in the guest (default: none)
#   --timeout SECS     kill the VM after this long, exit 124 (default 300)
#   --disk SIZE_MB     attach a scratch virtio disk (/dev/vda), formatted ext2
#                      and mounted at /mnt/scratch
#   --raw-disk         with --disk: leave /dev/vda unformatted and unmounted
#   --ext4             with --disk: format it as ext4 on the host (mkfs.ext4,
#                      e2fsprogs) and mount it as ext4, instead of busybox's
#                      ext2 (ext2 mounts report their type as ext2)
#   --module NAME      load this kernel module (and its dependencies) before
#                      COMMAND; repeatable
#   --memory MB        guest memory (default 1024)
#   --cpus N           guest CPUs (default 2)
#   --append ARGS      extra kernel command line
#   --bzimage          boot VMLINUZ itself even when fetch-kernel.sh left an
#                      ELF vmlinux-VER beside it (by default that is booted
#                      through qemu's PVH entry, ~3.5 s faster under TCG)
#   --keep             keep the work directory (initramfs, disk) and print it
#   -h, --help
#
# Exit status: COMMAND's status inside the guest; 124 on timeout; 123 when
# the VM stopped without printing the exit marker (kernel panic, init crash,
# qemu error); 122 when the host could not set the VM up; 2 on a usage error.
#
# In the guest, COMMAND runs from /corescope with stdin from /dev/null and
# these in the environment: CORESCOPE_DISK=/dev/vda and
# CORESCOPE_SCRATCH=/mnt/scratch (with --disk).
set -euo pipefail
shopt -s lastpipe
t_begin=$EPOCHREALTIME

prog=run-in-vm.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

EXIT_SETUP=122
EXIT_NO_MARKER=123
EXIT_TIMEOUT=124

log() { echo "$prog: $*" >&2; }
die() { echo "$prog: error: $*" >&2; exit $EXIT_SETUP; }
usage_error() {
    echo "$prog: $*" >&2
    echo "usage: $prog [--kernel VMLINUZ | --series 6.1|6.12|6.1-arm64] [--arch x86_64|arm64] [--timeout SECS] [--files DIR] [--disk SIZE_MB]" \
        "[--raw-disk|--ext4] [--module NAME]... [--memory MB] [--cpus N] [--append ARGS] [--bzimage] [--keep]" \
        "-- COMMAND [ARG...]" >&2
    exit 2
}
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

kernel=""
series=6.1
arch=""
files=""
timeout_s=300
disk_mb=""
raw_disk=0
ext4=0
modules=()
memory=1024
cpus=2
append=""
keep=0
bzimage=0

while [ $# -gt 0 ]; do
    case $1 in
    --kernel) [ $# -ge 2 ] || usage_error "--kernel needs a path"; kernel=$2; shift 2 ;;
    --series) [ $# -ge 2 ] || usage_error "--series needs 6.1, 6.12 or 6.1-arm64"; series=$2; shift 2 ;;
    --arch) [ $# -ge 2 ] || usage_error "--arch needs x86_64 or arm64"; arch=$2; shift 2 ;;
    --files) [ $# -ge 2 ] || usage_error "--files needs a directory"; files=$2; shift 2 ;;
    --timeout)
        [ $# -ge 2 ] && is_uint "$2" && [ "$2" -gt 0 ] ||
            usage_error "--timeout needs a number of seconds > 0, got '${2:-}'"
        timeout_s=$2; shift 2 ;;
    --disk)
        [ $# -ge 2 ] && is_uint "$2" && [ "$2" -ge 1 ] ||
            usage_error "--disk needs a size in MB >= 1, got '${2:-}'"
        disk_mb=$2; shift 2 ;;
    --raw-disk) raw_disk=1; shift ;;
    --ext4) ext4=1; shift ;;
    --module) [ $# -ge 2 ] || usage_error "--module needs a name"; modules+=("$2"); shift 2 ;;
    --memory)
        [ $# -ge 2 ] && is_uint "$2" && [ "$2" -ge 128 ] ||
            usage_error "--memory needs a size in MB >= 128, got '${2:-}'"
        memory=$2; shift 2 ;;
    --cpus)
        [ $# -ge 2 ] && is_uint "$2" && [ "$2" -ge 1 ] ||
            usage_error "--cpus needs a number >= 1, got '${2:-}'"
        cpus=$2; shift 2 ;;
    --append) [ $# -ge 2 ] || usage_error "--append needs an argument"; append=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --bzimage) bzimage=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    --) shift; break ;;
    *) usage_error "unknown option '$1' (the command goes after --)" ;;
    esac
done
[ $# -gt 0 ] || usage_error "no command given after --"
[ $raw_disk -eq 0 ] || [ -n "$disk_mb" ] || usage_error "--raw-disk needs --disk SIZE_MB"
[ $ext4 -eq 0 ] || [ -n "$disk_mb" ] || usage_error "--ext4 needs --disk SIZE_MB"
[ $ext4 -eq 0 ] || [ $raw_disk -eq 0 ] || usage_error "--ext4 and --raw-disk exclude each other"
if [ -n "$files" ]; then
    [ -d "$files" ] || usage_error "--files: '$files' is not a directory"
fi
if [ -z "$arch" ]; then
    case $series in *arm64) arch=arm64 ;; *) arch=x86_64 ;; esac
fi
case $arch in x86_64 | arm64) ;; *) usage_error "--arch: '$arch' is not x86_64 or arm64" ;; esac

# --- host dependencies --------------------------------------------------------

busybox_is_static() {
    local bb
    bb=$(command -v busybox 2>/dev/null) || return 1
    if command -v readelf >/dev/null; then
        # (no grep -q on a pipe: with pipefail, readelf's SIGPIPE would count)
        [ "$(readelf -l "$bb" 2>/dev/null | grep -c INTERP)" = 0 ]
    else
        dpkg -s busybox-static >/dev/null 2>&1
    fi
}

missing=()
if [ $arch = arm64 ]; then
    command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
    command -v dpkg-deb >/dev/null || missing+=(dpkg)
else
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    busybox_is_static || missing+=(busybox-static)
fi
command -v cpio >/dev/null || missing+=(cpio)
command -v gzip >/dev/null || missing+=(gzip)
command -v timeout >/dev/null || missing+=(coreutils)
[ $ext4 -eq 0 ] || command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        log "installing missing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # run-tools.sh boots its guests at once: the second waits for the
        # first one's dpkg lock rather than failing on it.
        wait_lock=(-o DPkg::Lock::Timeout=600)
        apt-get "${wait_lock[@]}" install -y --no-install-recommends "${missing[@]}" >&2 ||
            { apt-get update >&2 &&
                apt-get "${wait_lock[@]}" install -y --no-install-recommends "${missing[@]}" >&2; } ||
            die "could not install ${missing[*]}; install them by hand (apt-get install ${missing[*]})"
        [ $arch = arm64 ] || busybox_is_static || die "busybox is still not static; apt-get install busybox-static"
    else
        die "missing tools; install the Debian packages: ${missing[*]}"
    fi
fi
cache=${CORESCOPE_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/corescope/kernel-matrix}
if [ $arch = arm64 ]; then
    # The guest's busybox: Debian's busybox-static for arm64, unpacked (not
    # installed) into the kernel cache; needs dpkg's arm64 architecture
    # (scripts/setup.sh --arm64) the first time.
    busybox=$cache/busybox-static-arm64/bin/busybox
    if [ ! -x "$busybox" ]; then
        bbtmp=$(mktemp -d "${TMPDIR:-/tmp}/corescope-bb.XXXXXX")
        (cd "$bbtmp" && apt-get download -o APT::Sandbox::User=root busybox-static:arm64 >&2) ||
            { rm -rf "$bbtmp"; die "could not download busybox-static:arm64 (dpkg --add-architecture arm64; apt-get update)"; }
        mkdir -p "$cache" && rm -rf "$cache/busybox-static-arm64" &&
            dpkg-deb -x "$bbtmp"/busybox-static_*_arm64.deb "$cache/busybox-static-arm64" ||
            { rm -rf "$bbtmp"; die "could not unpack busybox-static:arm64"; }
        rm -rf "$bbtmp"
    fi
else
    busybox=$(command -v busybox)
fi

if [ -z "$kernel" ]; then
    kernel=$("$here/fetch-kernel.sh" "$cache" "$series") || die "fetch-kernel.sh could not provide a kernel"
fi
[ -f "$kernel" ] || die "kernel image '$kernel' not found"
kernel=$(cd "$(dirname "$kernel")" && pwd)/$(basename "$kernel")

# --- work directory -------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/corescope-vm.XXXXXX")
cleanup() {
    if [ "$keep" -eq 1 ]; then
        log "kept work directory $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,mnt,corescope,lib/modules}
cp "$busybox" "$root/bin/busybox"
if [ -n "$files" ]; then
    cp -a "$files"/. "$root/corescope/" || die "could not copy $files"
fi

# --- kernel modules (--disk, --module) ---------------------------------------
# The kernel is Debian's modular build: virtio-pci, virtio-blk and ext4 are
# modules. Resolve their dependencies on the host from each .ko's .modinfo
# (depends=) and have the guest insmod them in that order.

want_modules=("${modules[@]}")
if [ -n "$disk_mb" ]; then
    want_modules+=(virtio_pci virtio_blk)
    [ $raw_disk -eq 1 ] || want_modules+=(ext4)
fi
: >"$root/etc/corescope-modules"
if [ ${#want_modules[@]} -gt 0 ]; then
    # Debian layout: .../boot/vmlinuz-VER next to .../lib/modules/VER
    kver=$(basename "$kernel"); kver=${kver#vmlinuz-}; kver=${kver#vmlinux-}
    moddir=$(dirname "$(dirname "$kernel")")/lib/modules/$kver
    [ -d "$moddir/kernel" ] ||
        die "modules for $kver not found at $moddir (needed by --disk/--module); use a kernel from fetch-kernel.sh"
    # NAME<TAB>PATH for every module, NAME with '-' folded to '_' as the
    # kernel does.
    # 6.1's modules are plain .ko files, 6.12's .ko.xz: the guest's busybox
    # insmod takes plain ones, so compressed ones are unpacked here.
    mod_index=$(find "$moddir/kernel" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' \) -printf '%f\t%p\n' |
        awk -F'\t' '{ n = $1; sub(/\.ko(\.xz|\.zst)?$/, "", n); gsub(/-/, "_", n); print n "\t" $2 }')
    builtin_mods=$(sed 's#.*/##; s#\.ko$##; s#-#_#g' "$moddir/modules.builtin" 2>/dev/null || true)
    declare -A mod_done=()
    mod_lookup() { awk -F'\t' -v n="$1" '$1 == n { print $2; exit }' <<<"$mod_index"; }
    add_module() { # NAME [optional]
        local name=${1//-/_} ko out deps soft dep
        [ -z "${mod_done[$name]:-}" ] || return 0
        mod_done[$name]=1
        if grep -qx "$name" <<<"$builtin_mods"; then return 0; fi
        ko=$(mod_lookup "$name")
        if [ -z "$ko" ]; then
            [ -n "${2:-}" ] && return 1
            die "kernel module '$name' not found under $moddir"
        fi
        mkdir -p "$root/lib/modules/$kver"
        out=$root/lib/modules/$kver/${ko##*/}
        case $ko in
        *.ko.xz) out=${out%.xz}; xz -dc "$ko" >"$out" || die "could not unpack $ko (xz-utils)" ;;
        *.ko.zst) out=${out%.zst}; zstd -dcq "$ko" >"$out" || die "could not unpack $ko (zstd)" ;;
        *) cp "$ko" "$out" ;;
        esac
        ko=$out
        deps=$(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | head -n 1)
        for dep in ${deps//,/ }; do add_module "$dep"; done
        # softdep=pre: X (ext4 wants crypto-crc32c to mount at all). X is
        # a module name or an alias; the one alias form that matters here,
        # crypto-NAME, is served by NAME_generic, else NAME.
        soft=$(tr '\0' '\n' <"$ko" | sed -n 's/^softdep=pre: *//p' | sed 's/ post:.*//' | head -n 1)
        for dep in $soft; do
            add_module "$dep" optional ||
                { [[ $dep == crypto-* ]] &&
                    { add_module "${dep#crypto-}_generic" optional ||
                        add_module "${dep#crypto-}" optional; }; } ||
                log "warning: soft dependency '$dep' of $name not found; skipped"
        done
        echo "/lib/modules/$kver/${ko##*/}" >>"$root/etc/corescope-modules"
    }
    for m in "${want_modules[@]}"; do add_module "$m"; done
fi

# --- guest configuration ---------------------------------------------------------

nonce=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
start_marker="CORESCOPE-VM-START $nonce"
exit_marker="CORESCOPE-VM-EXIT $nonce"

# COMMAND, quoted for the guest's sh: every argument in single quotes.
{
    printf '#!/bin/sh\n'
    for arg in "$@"; do
        printf "'%s' " "${arg//\'/\'\\\'\'}"
    done
    printf '\n'
} >"$root/etc/corescope-cmd"

cat >"$root/etc/corescope-vm.conf" <<EOF
START_MARKER='$start_marker'
EXIT_MARKER='$exit_marker'
DISK=${disk_mb:+/dev/vda}
FORMAT_DISK=$((1 - raw_disk))
DISK_FS=$([ $ext4 -eq 1 ] && echo ext4 || echo ext2)
EOF

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
echo corescope-vm >"$root/etc/hostname"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# corescope kernel-matrix guest init (PID 1). Written by run-in-vm.sh.
/bin/busybox --install -s
export PATH=/corescope:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=dumb
. /etc/corescope-vm.conf

warn() { echo "corescope-init: warning: $*"; }
mnt() { # TYPE DIR [OPTIONS]
    mkdir -p "$2"
    mount -t "$1" ${3:+-o "$3"} "$1" "$2" 2>/dev/null || warn "could not mount $1 on $2"
}
power_off() {
    sync
    poweroff -f
    sleep 2
    echo o >/proc/sysrq-trigger
    sleep 10
}

mnt proc /proc
mnt sysfs /sys
mnt devtmpfs /dev
mnt devpts /dev/pts
mnt tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mnt tmpfs /tmp mode=1777
mnt tmpfs /run
mnt tracefs /sys/kernel/tracing
mnt debugfs /sys/kernel/debug
mnt securityfs /sys/kernel/security
mnt bpf /sys/fs/bpf
mnt cgroup2 /sys/fs/cgroup
hostname -F /etc/hostname
ip link set lo up 2>/dev/null || warn "could not bring up lo"

# BPF: 6.1 charges BPF memory to memcg, so the memlock limit no longer
# matters to libbpf; lift it anyway for anything that still checks it.
ulimit -l unlimited 2>/dev/null || warn "could not raise RLIMIT_MEMLOCK"

while read -r ko; do
    [ -n "$ko" ] || continue
    insmod "$ko" || warn "insmod $ko failed"
done </etc/corescope-modules

if [ -n "$DISK" ]; then
    i=0
    while [ ! -b "$DISK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if [ ! -b "$DISK" ]; then
        warn "$DISK did not appear"
    else
        export CORESCOPE_DISK=$DISK
        if [ "$FORMAT_DISK" = 1 ]; then
            mkdir -p /mnt/scratch
            # ext4 was formatted on the host; ext2 is busybox's mke2fs.
            if { [ "$DISK_FS" = ext4 ] || mke2fs -q "$DISK" >/dev/null 2>&1; } &&
                mount -t "$DISK_FS" "$DISK" /mnt/scratch; then
                export CORESCOPE_SCRATCH=/mnt/scratch
            else
                warn "could not format or mount $DISK"
            fi
        fi
    fi
fi

echo
echo "$START_MARKER uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
cd /corescope
sh /etc/corescope-cmd </dev/null
status=$?
cd /
[ -n "${CORESCOPE_SCRATCH:-}" ] && umount /mnt/scratch 2>/dev/null
sync
echo
echo "$EXIT_MARKER status=$status uptime=$(cut -d' ' -f1 /proc/uptime)"
power_off
EOF
chmod 755 "$root/init" "$root/etc/corescope-cmd"

(cd "$root" && find . -print0 | cpio --null -o -H newc --owner=0:0 --quiet) |
    gzip -1 >"$work/initramfs.cpio.gz" || die "could not build the initramfs"

# Prefer the ELF vmlinux beside the bzImage: qemu loads it through the PVH
# entry point, and the kernel skips its own xz decompression (slow in TCG).
boot_image=$kernel
pvh_image=$(dirname "$kernel")/vmlinux-$(basename "$kernel" | sed 's/^vmlinuz-//')
if [ $bzimage -eq 0 ] && [ "$pvh_image" != "$kernel" ] && [ -s "$pvh_image" ]; then
    if ! command -v readelf >/dev/null ||
        [ "$(readelf -n "$pvh_image" 2>/dev/null | grep -c 'note type: (0x00000012)')" != 0 ]; then
        boot_image=$pvh_image
    fi
fi

# One host thread runs every vCPU (thread=single): with a thread each, a
# guest once stuck for 26 s at a jump label in the system-call entry while
# tools attached (a soft lockup panic in CI, never seen on real CPUs); the
# run takes 47 s instead of 40 here.
qemu=qemu-system-x86_64
qemu_args=(
    -accel tcg,thread=single -machine pc -cpu max -smp "$cpus" -m "$memory"
    -nographic -no-reboot -nic none
    -kernel "$boot_image" -initrd "$work/initramfs.cpio.gz"
    -append "console=ttyS0 panic=-1 quiet no_timer_check ${append}"
)
# arm64: qemu's virt board, the Image booted directly (no firmware), PL011
# console. pauth-impdef: qemu's own pointer-authentication hash instead of
# QARMA, which under TCG costs much of every function's entry and return.
if [ $arch = arm64 ]; then
    qemu=qemu-system-aarch64
    qemu_args=(
        -accel tcg,thread=single -machine virt -cpu max,pauth-impdef=on -smp "$cpus" -m "$memory"
        -nographic -no-reboot -nic none
        -kernel "$kernel" -initrd "$work/initramfs.cpio.gz"
        -append "console=ttyAMA0 panic=-1 quiet ${append}"
    )
fi
if [ -n "$disk_mb" ]; then
    truncate -s "${disk_mb}M" "$work/disk.raw"
    if [ $ext4 -eq 1 ]; then
        mkfs.ext4 -q -F "$work/disk.raw" >&2 || die "mkfs.ext4 could not format the scratch disk"
    fi
    qemu_args+=(-drive "file=$work/disk.raw,format=raw,if=virtio")
fi

# --- boot --------------------------------------------------------------------------

log "booting $(basename "$boot_image") (tcg, ${cpus} cpu, ${memory} MB, timeout ${timeout_s}s)"
t0=$EPOCHREALTIME
t_start=""
guest_status=""
# qemu reads its stdin for the serial console; give it /dev/null so the
# guest never waits on the host terminal, and so a terminal stays sane.
set +e # qemu's status is read from PIPESTATUS below
timeout -k 5 "$timeout_s" "$qemu" "${qemu_args[@]}" </dev/null |
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        printf '%s\n' "$line"
        # Firmware and console escape sequences can precede a marker on
        # its line, so match anywhere in the line.
        case $line in
        *"$start_marker "*) t_start=$EPOCHREALTIME ;;
        *"$exit_marker status="*)
            guest_status=${line#*"$exit_marker status="}
            guest_status=${guest_status%% *}
            ;;
        esac
    done
rcs=("${PIPESTATUS[@]}")
set -e
qemu_rc=${rcs[0]}
t1=$EPOCHREALTIME

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
if [ -n "$t_start" ]; then
    log "timing: setup $(elapsed "$t_begin" "$t0")s, qemu start to command $(elapsed "$t0" "$t_start")s, command and power-off $(elapsed "$t_start" "$t1")s"
fi

if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
    log "timed out after ${timeout_s}s"
    exit $EXIT_TIMEOUT
fi
if [ -z "$guest_status" ]; then
    log "the VM stopped (qemu exit $qemu_rc) without printing its exit marker: kernel panic, init failure or qemu error (see output above)"
    exit $EXIT_NO_MARKER
fi
is_uint "$guest_status" || { log "garbled exit marker: '$guest_status'"; exit $EXIT_NO_MARKER; }
log "guest command exited with status $guest_status"
exit "$guest_status"
