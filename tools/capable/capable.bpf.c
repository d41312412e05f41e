// SPDX-License-Identifier: GPL-2.0
/* capable: every capability check cap_capable() makes, with its result.
 * fexit (or a kprobe and kretprobe pair) on cap_capable sees the check's
 * options, and so whether it is audited; the capability:cap_capable
 * tracepoint (kernels from 6.14) passes the result but not the options. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "capable/capable.h"

char LICENSE[] SEC("license") = "GPL";

/* include/linux/security.h */
#define CAP_OPT_NOAUDIT (1U << 1)
#define CAP_OPT_INSETID (1U << 2)

const volatile bool failed_only = false;
/* --all: also the granted checks the kernel does not audit, which the
 * default leaves out where the hook tells them apart. */
const volatile bool all_checks = false;

static __always_inline int report(void *ctx, int cap, int ret, bool opts_known, __u32 opts)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct capable_event e = {};

	if (failed_only && ret == 0)
		return 0;
	if (!all_checks && opts_known && ret == 0 && (opts & CAP_OPT_NOAUDIT))
		return 0;
	if (current_filtered_out())
		return 0;
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = pid_tgid >> 32;
	e.tid = (__u32)pid_tgid;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.cap = cap;
	e.ret = ret;
	e.opts_known = opts_known ? CAPABLE_OPTS_KNOWN : CAPABLE_OPTS_UNKNOWN;
	e.audit = opts_known && !(opts & CAP_OPT_NOAUDIT);
	e.insetid = opts_known && (opts & CAP_OPT_INSETID);
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	events_output(ctx, &e, sizeof(e));
	return 0;
}

/* Tier 1: fexit, the arguments and the result in one program. */

SEC("fexit/cap_capable")
int BPF_PROG(fexit_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opts, int ret)
{
	return report(ctx, cap, ret, true, opts);
}

/* Tier 2: a kprobe saving the arguments per thread for the kretprobe. */

struct pending_check {
	__s32 cap;
	__u32 opts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending_check);
} pending SEC(".maps");

SEC("kprobe/cap_capable")
int BPF_KPROBE(kprobe_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	       unsigned int opts)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_check check = { .cap = cap, .opts = opts };

	bpf_map_update_elem(&pending, &tid, &check, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(kretprobe_cap_capable, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_check *check = bpf_map_lookup_elem(&pending, &tid);

	if (!check)
		return 0;
	report(ctx, check->cap, ret, true, check->opts);
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tiers 3-5: the capability:cap_capable tracepoint (6.14 and later), with
 * the check's result but not its options. */

SEC("tp_btf/cap_capable")
int BPF_PROG(btf_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return report(ctx, cap, ret, false, 0);
}

SEC("raw_tp/cap_capable")
int BPF_PROG(raw_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return report(ctx, cap, ret, false, 0);
}

/* The record (6.14+), written out (flavoured) so that the program also
 * compiles against a vmlinux.h older than it (arm64's, from 6.1). */
struct trace_event_raw_cap_capable___new {
	int cap;
	int ret;
} __attribute__((preserve_access_index));

SEC("tracepoint/capability/cap_capable")
int tp_cap_capable(struct trace_event_raw_cap_capable___new *ctx)
{
	return report(ctx, ctx->cap, ctx->ret, false, 0);
}
