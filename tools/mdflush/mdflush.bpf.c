// SPDX-License-Identifier: GPL-2.0
/* mdflush: flushes of md (software RAID) devices. The md driver's own
 * md_flush_request() where it can be traced (fentry, else kprobe; md is
 * usually a module, md_mod), else the block layer's block_bio_queue for a
 * bio with REQ_PREFLUSH on a device whose major is md's (the loader gives
 * it, from /proc/devices). The task is the one that submitted the flush. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "mdflush/mdflush.h"

char LICENSE[] SEC("license") = "GPL";

/* md's block majors ("md" and "mdp" in /proc/devices); 0: none. */
const volatile __u32 md_major = 9;
const volatile __u32 mdp_major = 0;

static __always_inline int report(void *ctx, struct bio *bio)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct block_device *bdev;
	struct mdflush_event e = {};
	__u32 dev;

	if (current_filtered_out())
		return 0;
	bdev = BPF_CORE_READ(bio, bi_bdev);
	dev = BPF_CORE_READ(bdev, bd_dev);
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = pid_tgid >> 32;
	e.tid = (__u32)pid_tgid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.major = dev >> 20;
	e.minor = dev & 0xfffff;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_probe_read_kernel_str(e.disk, sizeof(e.disk), BPF_CORE_READ(bdev, bd_disk, disk_name));
	events_output(ctx, &e, sizeof(e));
	return 0;
}

/* Tier 1: the md driver's flush entry point. */

SEC("fentry/md_flush_request")
int BPF_PROG(fentry_md_flush_request, void *mddev, struct bio *bio) { return report(ctx, bio); }

SEC("kprobe/md_flush_request")
int kprobe_md_flush_request(struct pt_regs *ctx)
{
	return report(ctx, (struct bio *)PT_REGS_PARM2_CORE(ctx));
}

/* Tier 2: every bio queued; only preflushes to md devices pass. */

static __always_inline int on_bio(void *ctx, struct bio *bio)
{
	__u32 opf = BPF_CORE_READ(bio, bi_opf);
	__u32 major = BPF_CORE_READ(bio, bi_bdev, bd_dev) >> 20;

	if (!(opf & (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_PREFLUSH))))
		return 0;
	if (!major || (major != md_major && major != mdp_major))
		return 0;
	return report(ctx, bio);
}

SEC("tp_btf/block_bio_queue")
int BPF_PROG(btf_bio_queue, struct bio *bio) { return on_bio(ctx, bio); }

SEC("raw_tp/block_bio_queue")
int BPF_PROG(raw_bio_queue, struct bio *bio) { return on_bio(ctx, bio); }
