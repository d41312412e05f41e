#!/usr/bin/env bash
# Build corescope-probe, run it on this host (report only), then in the 6.1
# guest, where every attach type must work (exit status of the guest run).
# Extra arguments go to run-in-vm.sh, e.g. --kernel or --timeout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$here/build
probe=$("$here/build.sh" "$build")

files=$(mktemp -d "${TMPDIR:-/tmp}/corescope-probe.XXXXXX")
trap 'rm -rf "$files"' EXIT
cp "$probe" "$files/"

echo "== host: $(uname -r)"
"$probe" || true

echo "== guest (Debian 6.1 under qemu)"
all=kprobe,kretprobe,fentry,fexit,tracepoint,raw_tp,tp_btf,perf_event,ringbuf,perfbuf
"$here/../run-in-vm.sh" --files "$files" "$@" -- corescope-probe --require "$all"
