// SPDX-License-Identifier: GPL-2.0
/* sigsnoop: every signal the kernel generates (signal:signal_generate), with
 * sender, target and result; or, in kill mode (-k, killsnoop), the
 * kill(), tkill() and tgkill() calls with their return. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "sigsnoop/sigsnoop.h"

char LICENSE[] SEC("license") = "GPL";

#define SI_USER	  0
#define SI_KERNEL 0x80

const volatile bool failed_only = false;
const volatile bool filter_signal = false; /* -s */
const volatile int wanted_signal = 0;

static __always_inline bool signal_wanted(int sig)
{
	return !filter_signal || sig == wanted_signal;
}

static __always_inline void fill_sender(struct sigsnoop_event *e)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* --- signal_generate: fires in the task that makes the signal (a sender's
 * kill, a faulting task's SIGSEGV, an exiting child's SIGCHLD; an interrupt
 * for timers), before the signal is queued. */

static __always_inline int on_generate(void *ctx, int sig, int code, int target_pid,
				       const char *target_comm, int group, int result)
{
	struct sigsnoop_event e = {};

	if (!signal_wanted(sig))
		return 0;
	/* Not queued: ignored, already pending (a standard signal), or the
	 * queue was full. Delivered without its siginfo still counts as sent. */
	if (failed_only && (result == SIGSNOOP_DELIVERED || result == SIGSNOOP_LOSE_INFO))
		return 0;
	if (current_filtered_out())
		return 0;
	fill_sender(&e);
	e.sig = sig;
	e.code = code;
	e.target_pid = target_pid;
	e.result = result;
	e.source = SIGSNOOP_GENERATE;
	e.group = group != 0;
	bpf_probe_read_kernel_str(e.target_comm, sizeof(e.target_comm), target_comm);
	events_output(ctx, &e, sizeof(e));
	return 0;
}

/* si_code as the tracefs event records it: the two special siginfo
 * pointers stand for a user's and the kernel's signal. */
static __always_inline int code_of(struct kernel_siginfo *info)
{
	if ((unsigned long)info == 0) /* SEND_SIG_NOINFO */
		return SI_USER;
	if ((unsigned long)info == 1) /* SEND_SIG_PRIV */
		return SI_KERNEL;
	return BPF_CORE_READ(info, si_code);
}

static __always_inline int on_generate_task(void *ctx, int sig, struct kernel_siginfo *info,
					    struct task_struct *task, int group, int result)
{
	if (!signal_wanted(sig))
		return 0;
	return on_generate(ctx, sig, code_of(info), BPF_CORE_READ(task, pid), task->comm, group,
			   result);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(btf_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	return on_generate_task(ctx, sig, info, task, group, result);
}

SEC("raw_tp/signal_generate")
int BPF_PROG(raw_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	return on_generate_task(ctx, sig, info, task, group, result);
}

SEC("tracepoint/signal/signal_generate")
int tp_generate(struct trace_event_raw_signal_generate *ctx)
{
	return on_generate(ctx, ctx->sig, ctx->code, ctx->pid, ctx->comm, ctx->group, ctx->result);
}

/* --- kill mode: entry saves the call per thread, exit sends it with its
 * return. */

struct pending_kill {
	__s32 sig;
	__s32 target_pid;
	__u32 source;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending_kill);
} pending SEC(".maps");

static __always_inline int on_kill_enter(__u32 source, long target_pid, long sig)
{
	struct pending_kill call = { .sig = sig, .target_pid = target_pid, .source = source };
	__u32 tid;

	if (!signal_wanted(sig) || current_filtered_out())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending, &tid, &call, BPF_ANY);
	return 0;
}

static __always_inline int on_kill_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sigsnoop_event e = {};
	struct pending_kill *call;

	call = bpf_map_lookup_elem(&pending, &tid);
	if (!call)
		return 0;
	if (failed_only && ret >= 0)
		goto done;
	fill_sender(&e);
	e.sig = call->sig;
	e.target_pid = call->target_pid;
	e.result = ret;
	e.source = call->source;
	events_output(ctx, &e, sizeof(e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_kill")
int tp_enter_kill(struct trace_event_raw_sys_enter *ctx)
{
	return on_kill_enter(SIGSNOOP_KILL, ctx->args[0], ctx->args[1]);
}
SEC("tracepoint/syscalls/sys_enter_tkill")
int tp_enter_tkill(struct trace_event_raw_sys_enter *ctx)
{
	return on_kill_enter(SIGSNOOP_TKILL, ctx->args[0], ctx->args[1]);
}
SEC("tracepoint/syscalls/sys_enter_tgkill")
int tp_enter_tgkill(struct trace_event_raw_sys_enter *ctx)
{
	return on_kill_enter(SIGSNOOP_TGKILL, ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int tp_exit_kill(struct trace_event_raw_sys_exit *ctx) { return on_kill_exit(ctx, ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_tkill")
int tp_exit_tkill(struct trace_event_raw_sys_exit *ctx) { return on_kill_exit(ctx, ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_tgkill")
int tp_exit_tgkill(struct trace_event_raw_sys_exit *ctx) { return on_kill_exit(ctx, ctx->ret); }

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_KILL)
		return on_kill_enter(SIGSNOOP_KILL, PT_REGS_PARM1_CORE_SYSCALL(regs),
				     PT_REGS_PARM2_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_TKILL)
		return on_kill_enter(SIGSNOOP_TKILL, PT_REGS_PARM1_CORE_SYSCALL(regs),
				     PT_REGS_PARM2_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_TGKILL)
		return on_kill_enter(SIGSNOOP_TGKILL, PT_REGS_PARM2_CORE_SYSCALL(regs),
				     PT_REGS_PARM3_CORE_SYSCALL(regs));
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	/* Only threads whose entry was a kill call have a pending entry. */
	return on_kill_exit(ctx, ctx->args[1]);
}
