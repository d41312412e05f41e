// SPDX-License-Identifier: GPL-2.0
/* ksnoop: the arguments and return value of each call of one kernel
 * function. The entry (fentry, else kprobe) stamps the calling thread
 * (after the task filters); the return (fexit, else kretprobe) sends one
 * event with the arguments, the return value and the time between. The
 * loader sets the function (the programs' sections name none) and how many
 * arguments it takes, from the kernel's BTF. A recursive call of the
 * function within itself is seen as the innermost call only. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "ksnoop/ksnoop.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 nr_args = 0; /* the function's arguments, KSNOOP_MAX_ARGS at most */

struct call_start {
	__u64 start_ns;
	__u64 args[KSNOOP_MAX_ARGS]; /* the kprobe tier's: fexit reads its own */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct call_start);
} calls SEC(".maps");

EVENT_SCRATCH(struct ksnoop_event, scratch);

static __always_inline struct call_start *entered(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call_start start = {};

	if (current_filtered_out())
		return NULL;
	start.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&calls, &tid, &start, BPF_ANY);
	return bpf_map_lookup_elem(&calls, &tid);
}

/* The event of the call that returns, its arguments still to fill; NULL
 * when the call was not seen entering (filtered, or begun before attach). */
static __always_inline struct ksnoop_event *returned(struct call_start **start)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, zero = 0;
	struct ksnoop_event *e;
	__u64 now = bpf_ktime_get_ns();

	*start = bpf_map_lookup_elem(&calls, &tid);
	if (!*start)
		return NULL;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return NULL;
	e->ts_ns = now;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->nr_args = nr_args < KSNOOP_MAX_ARGS ? nr_args : KSNOOP_MAX_ARGS;
	e->duration_ns = now - (*start)->start_ns;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

/* Tier 1: fentry and fexit, which read the arguments from the trampoline. */

SEC("fentry")
int BPF_PROG(fentry_call)
{
	entered();
	return 0;
}

SEC("fexit")
int BPF_PROG(fexit_call)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call_start *start;
	struct ksnoop_event *e = returned(&start);

	if (!e)
		return 0;
	for (int i = 0; i < KSNOOP_MAX_ARGS; i++) {
		e->args[i] = 0;
		if (i < e->nr_args)
			bpf_get_func_arg(ctx, i, &e->args[i]);
	}
	e->ret = 0;
	bpf_get_func_ret(ctx, &e->ret);
	bpf_map_delete_elem(&calls, &tid);
	events_output(ctx, e, sizeof(*e));
	return 0;
}

/* Tier 2: kprobe and kretprobe; the arguments are taken at entry, from the
 * registers the calling convention passes them in. */

SEC("kprobe")
int kprobe_call(struct pt_regs *ctx)
{
	struct call_start *start = entered();

	if (!start)
		return 0;
	start->args[0] = PT_REGS_PARM1_CORE(ctx);
	start->args[1] = PT_REGS_PARM2_CORE(ctx);
	start->args[2] = PT_REGS_PARM3_CORE(ctx);
	start->args[3] = PT_REGS_PARM4_CORE(ctx);
	start->args[4] = PT_REGS_PARM5_CORE(ctx);
#if defined(__TARGET_ARCH_x86) /* this libbpf has no PT_REGS_PARM6: r9 */
	start->args[5] = BPF_CORE_READ(ctx, r9);
#endif
	return 0;
}

SEC("kretprobe")
int kretprobe_call(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call_start *start;
	struct ksnoop_event *e = returned(&start);

	if (!e)
		return 0;
	for (int i = 0; i < KSNOOP_MAX_ARGS; i++)
		e->args[i] = i < e->nr_args ? start->args[i] : 0;
	e->ret = PT_REGS_RC_CORE(ctx);
	bpf_map_delete_elem(&calls, &tid);
	events_output(ctx, e, sizeof(*e));
	return 0;
}
