// SPDX-License-Identifier: GPL-2.0
/* mountsnoop: mount(), umount2() and the new mount API (fsopen, fsconfig,
 * fsmount, move_mount, open_tree, fspick, mount_setattr), with their
 * arguments, result and latency. Entry saves the arguments per thread; exit
 * reads the strings they point to (the call has faulted them in by then)
 * and sends one event. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "syscall_pairs.bpf.h"
#include "filters.bpf.h"
#include "syscall_nr.bpf.h"
#include "mountsnoop/mountsnoop.h"

char LICENSE[] SEC("license") = "GPL";

/* fsconfig's commands whose value is a string */
#define FSCONFIG_SET_STRING	1
#define FSCONFIG_SET_PATH	3
#define FSCONFIG_SET_PATH_EMPTY 4

const volatile bool failed_only = false;

struct pending_call {
	__u64 start_ns;
	__u64 args[MOUNTSNOOP_ARGS];
	__u32 call;
};

PENDING_CALLS(struct pending_call, 4096);

EVENT_SCRATCH(struct mountsnoop_event, scratch);

static __always_inline int on_enter(__u32 call, __u64 a0, __u64 a1, __u64 a2, __u64 a3, __u64 a4)
{
	struct pending_call c = { .args = { a0, a1, a2, a3, a4 }, .call = call };

	if (current_filtered_out())
		return 0;
	c.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &c);
}

/* Reads the string at user address ptr into dst; sets bit in *has when
 * there was one. */
static __always_inline void read_string(char *dst, __u32 size, __u64 ptr, __u32 bit, __u32 *has)
{
	dst[0] = '\0';
	if (ptr && bpf_probe_read_user_str(dst, size, (const void *)ptr) > 0)
		*has |= bit;
}

static __always_inline int on_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct task_struct *task;
	struct pending_call *c;
	struct mountsnoop_event *e;
	struct mount_attr attr = {};
	__u64 *a;
	__u32 has = 0;

	c = bpf_map_lookup_elem(&pending, &tid);
	if (!c)
		return 0;
	if (failed_only && ret >= 0)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	a = c->args;
	e->ts_ns = bpf_ktime_get_ns();
	e->lat_ns = e->ts_ns - c->start_ns;
	e->ret = ret;
	__builtin_memcpy(e->args, c->args, sizeof(e->args));
	e->attr_set = e->attr_clr = e->propagation = 0;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->call = c->call;
	task = (struct task_struct *)bpf_get_current_task();
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->name[0] = e->source[0] = e->target[0] = e->data[0] = '\0';
	switch (c->call) {
	case MOUNTSNOOP_MOUNT:
		read_string(e->source, sizeof(e->source), a[0], MOUNTSNOOP_HAS_SOURCE, &has);
		read_string(e->target, sizeof(e->target), a[1], MOUNTSNOOP_HAS_TARGET, &has);
		read_string(e->name, sizeof(e->name), a[2], MOUNTSNOOP_HAS_NAME, &has);
		read_string(e->data, sizeof(e->data), a[4], MOUNTSNOOP_HAS_DATA, &has);
		break;
	case MOUNTSNOOP_UMOUNT2:
		read_string(e->target, sizeof(e->target), a[0], MOUNTSNOOP_HAS_TARGET, &has);
		break;
	case MOUNTSNOOP_FSOPEN:
		read_string(e->name, sizeof(e->name), a[0], MOUNTSNOOP_HAS_NAME, &has);
		break;
	case MOUNTSNOOP_FSCONFIG:
		read_string(e->name, sizeof(e->name), a[2], MOUNTSNOOP_HAS_NAME, &has);
		if (a[1] == FSCONFIG_SET_STRING || a[1] == FSCONFIG_SET_PATH ||
		    a[1] == FSCONFIG_SET_PATH_EMPTY)
			read_string(e->source, sizeof(e->source), a[3], MOUNTSNOOP_HAS_SOURCE,
				    &has);
		break;
	case MOUNTSNOOP_MOVE_MOUNT:
		read_string(e->source, sizeof(e->source), a[1], MOUNTSNOOP_HAS_SOURCE, &has);
		read_string(e->target, sizeof(e->target), a[3], MOUNTSNOOP_HAS_TARGET, &has);
		break;
	case MOUNTSNOOP_OPEN_TREE:
	case MOUNTSNOOP_FSPICK:
		read_string(e->target, sizeof(e->target), a[1], MOUNTSNOOP_HAS_TARGET, &has);
		break;
	case MOUNTSNOOP_MOUNT_SETATTR:
		read_string(e->target, sizeof(e->target), a[1], MOUNTSNOOP_HAS_TARGET, &has);
		/* attr_set, attr_clr, propagation: the first 24 bytes of any
		 * version of the struct. */
		if (a[4] >= 24 && !bpf_probe_read_user(&attr, 24, (const void *)a[3])) {
			e->attr_set = attr.attr_set;
			e->attr_clr = attr.attr_clr;
			e->propagation = attr.propagation;
			has |= MOUNTSNOOP_HAS_ATTR;
		}
		break;
	}
	e->has = has;
	events_output(ctx, e, sizeof(*e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). umount2() is the
 * kernel's umount. A program may read only the arguments its tracepoint
 * has (the kernel refuses to attach one that reads past them): ARGS5 for
 * calls of five, ARGS3 of three, ARGS2 of two. */

#define ARGS5(ctx) ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], ctx->args[4]
#define ARGS3(ctx) ctx->args[0], ctx->args[1], ctx->args[2], 0, 0
#define ARGS2(ctx) ctx->args[0], ctx->args[1], 0, 0, 0

#define TRACE_CALL(name, call, args)                                                               \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                \
	int tp_enter_##name(struct trace_event_raw_sys_enter *ctx)                                 \
	{                                                                                          \
		return on_enter(call, args(ctx));                                                  \
	}                                                                                          \
	SYSCALL_EXIT(name)

TRACE_CALL(mount, MOUNTSNOOP_MOUNT, ARGS5)
TRACE_CALL(umount, MOUNTSNOOP_UMOUNT2, ARGS2)
TRACE_CALL(fsopen, MOUNTSNOOP_FSOPEN, ARGS2)
TRACE_CALL(fsconfig, MOUNTSNOOP_FSCONFIG, ARGS5)
TRACE_CALL(fsmount, MOUNTSNOOP_FSMOUNT, ARGS3)
TRACE_CALL(move_mount, MOUNTSNOOP_MOVE_MOUNT, ARGS5)
TRACE_CALL(open_tree, MOUNTSNOOP_OPEN_TREE, ARGS3)
TRACE_CALL(fspick, MOUNTSNOOP_FSPICK, ARGS3)
TRACE_CALL(mount_setattr, MOUNTSNOOP_MOUNT_SETATTR, ARGS5)

/* Tier 2: the raw syscall tracepoints, which need no tracefs but run for
 * every system call. */

static __always_inline int call_of(long nr)
{
	if (nr == SYSCALL_NR_MOUNT)
		return MOUNTSNOOP_MOUNT;
	if (nr == SYSCALL_NR_UMOUNT2)
		return MOUNTSNOOP_UMOUNT2;
	if (nr == SYSCALL_NR_FSOPEN)
		return MOUNTSNOOP_FSOPEN;
	if (nr == SYSCALL_NR_FSCONFIG)
		return MOUNTSNOOP_FSCONFIG;
	if (nr == SYSCALL_NR_FSMOUNT)
		return MOUNTSNOOP_FSMOUNT;
	if (nr == SYSCALL_NR_MOVE_MOUNT)
		return MOUNTSNOOP_MOVE_MOUNT;
	if (nr == SYSCALL_NR_OPEN_TREE)
		return MOUNTSNOOP_OPEN_TREE;
	if (nr == SYSCALL_NR_FSPICK)
		return MOUNTSNOOP_FSPICK;
	if (nr == SYSCALL_NR_MOUNT_SETATTR)
		return MOUNTSNOOP_MOUNT_SETATTR;
	return -1;
}

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	int call = call_of(ctx->args[1]);

	if (call < 0)
		return 0;
	return on_enter(call, PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
			PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs),
			PT_REGS_PARM5_CORE_SYSCALL(regs));
}

RAW_SYSCALL_EXIT()
