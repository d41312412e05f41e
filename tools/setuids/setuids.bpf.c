// SPDX-License-Identifier: GPL-2.0
/* setuids: setuid(), setgid(), setreuid(), setregid(), setresuid(),
 * setresgid(), setfsuid(), setfsgid() and setgroups(), with the caller's IDs
 * before the call, the IDs it asked for and the result. Entry fills the event
 * per thread (the credentials are the old ones only then); exit adds the
 * result and sends it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "setuids/setuids.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool failed_only = false;

PENDING_CALLS(struct setuids_event, 4096);

EVENT_SCRATCH(struct setuids_event, scratch);

static __always_inline void read_ids(struct setuids_ids *ids)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const struct cred *cred = BPF_CORE_READ(task, cred);

	ids->uid = BPF_CORE_READ(cred, uid.val);
	ids->euid = BPF_CORE_READ(cred, euid.val);
	ids->suid = BPF_CORE_READ(cred, suid.val);
	ids->fsuid = BPF_CORE_READ(cred, fsuid.val);
	ids->gid = BPF_CORE_READ(cred, gid.val);
	ids->egid = BPF_CORE_READ(cred, egid.val);
	ids->sgid = BPF_CORE_READ(cred, sgid.val);
	ids->fsgid = BPF_CORE_READ(cred, fsgid.val);
}

static __always_inline int on_enter(__u32 call, __u64 a0, __u64 a1, __u64 a2)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct setuids_event *e;
	__u32 n;

	if (current_filtered_out())
		return 0;
	e = scratch_get(&scratch);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->call = call;
	e->args[0] = a0;
	e->args[1] = a1;
	e->args[2] = a2;
	read_ids(&e->old);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (call == SETUIDS_SETGROUPS && (int)a0 > 0 && a1) {
		n = a0 < SETUIDS_MAX_GROUPS ? a0 : SETUIDS_MAX_GROUPS;
		barrier_var(n);
		if (n >= 1 && n <= SETUIDS_MAX_GROUPS &&
		    !bpf_probe_read_user(e->groups, n * sizeof(__u32), (const void *)a1))
			e->groups_read = n;
	}
	bpf_map_update_elem(&pending, &tid, e, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct setuids_event *e;

	e = bpf_map_lookup_elem(&pending, &tid);
	if (!e)
		return 0;
	/* setfsuid and setfsgid return the previous ID and never fail as such. */
	if (!(failed_only && ret >= 0)) {
		e->ts_ns = bpf_ktime_get_ns();
		e->ret = ret;
		events_output(ctx, e, sizeof(*e));
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). A program may read only
 * the arguments its call has: the kernel refuses to attach one whose reads
 * go past the tracepoint's record. */

#define SETUIDS_ENTER(name, call, a1, a2)                                                          \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                \
	int tp_enter_##name(struct trace_event_raw_sys_enter *ctx)                                 \
	{                                                                                          \
		return on_enter(call, ctx->args[0], a1, a2);                                       \
	}                                                                                          \
	SYSCALL_EXIT(name)

SETUIDS_ENTER(setuid, SETUIDS_SETUID, 0, 0)
SETUIDS_ENTER(setgid, SETUIDS_SETGID, 0, 0)
SETUIDS_ENTER(setreuid, SETUIDS_SETREUID, ctx->args[1], 0)
SETUIDS_ENTER(setregid, SETUIDS_SETREGID, ctx->args[1], 0)
SETUIDS_ENTER(setresuid, SETUIDS_SETRESUID, ctx->args[1], ctx->args[2])
SETUIDS_ENTER(setresgid, SETUIDS_SETRESGID, ctx->args[1], ctx->args[2])
SETUIDS_ENTER(setfsuid, SETUIDS_SETFSUID, 0, 0)
SETUIDS_ENTER(setfsgid, SETUIDS_SETFSGID, 0, 0)
SETUIDS_ENTER(setgroups, SETUIDS_SETGROUPS, ctx->args[1], 0)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. */

static __always_inline int call_of(long nr)
{
	switch (nr) {
	case SYSCALL_NR_SETUID:
		return SETUIDS_SETUID;
	case SYSCALL_NR_SETGID:
		return SETUIDS_SETGID;
	case SYSCALL_NR_SETREUID:
		return SETUIDS_SETREUID;
	case SYSCALL_NR_SETREGID:
		return SETUIDS_SETREGID;
	case SYSCALL_NR_SETRESUID:
		return SETUIDS_SETRESUID;
	case SYSCALL_NR_SETRESGID:
		return SETUIDS_SETRESGID;
	case SYSCALL_NR_SETFSUID:
		return SETUIDS_SETFSUID;
	case SYSCALL_NR_SETFSGID:
		return SETUIDS_SETFSGID;
	case SYSCALL_NR_SETGROUPS:
		return SETUIDS_SETGROUPS;
	default:
		return -1;
	}
}

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	int call = call_of(ctx->args[1]);

	if (call < 0)
		return 0;
	return on_enter(call, PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
			PT_REGS_PARM3_CORE_SYSCALL(regs));
}

RAW_SYSCALL_EXIT()
