// SPDX-License-Identifier: GPL-2.0
/* futexctn: futex contention. Every futex call that waits (the WAIT family
 * of futex(): WAIT, WAIT_BITSET, LOCK_PI, LOCK_PI2, WAIT_REQUEUE_PI; and
 * futex_waitv(), futex_wait()) is timed from entry to exit, and the wait is
 * added to the histogram of its process, futex word and user stack. A call
 * that does not block (the word had changed: EAGAIN) is counted too, with
 * its short time: it is still a lock taken under contention. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "stacks.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_pairs.bpf.h"
#include "futexctn/futexctn.h"

char LICENSE[] SEC("license") = "GPL";

/* include/uapi/linux/futex.h */
#define FUTEX_WAIT	      0
#define FUTEX_LOCK_PI	      6
#define FUTEX_WAIT_BITSET     9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2	      13
#define FUTEX_PRIVATE_FLAG    128
#define FUTEX_CLOCK_REALTIME  256
#define FUTEX_CMD_MASK	      (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

const volatile bool user_stacks = true;
const volatile __u64 wanted_lock = 0; /* -l: only this futex word; 0 for all */
const volatile __u64 min_wait_ns = 0; /* --min-wait */
const volatile __u64 unit_ns = 1000;  /* the histogram's unit: us, or ms with -m */

__u64 dropped[FUTEXCTN_DROP_KINDS];

/* A thread inside a waiting futex call. */
struct futex_wait_start {
	__u64 start_ns;
	__u64 uaddr;
	__s32 user_stack_id;
};

PENDING_CALLS(struct futex_wait_start, FUTEXCTN_MAX_THREADS);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUTEXCTN_MAX_KEYS);
	__type(key, struct futexctn_key);
	__type(value, struct futexctn_value);
} waits SEC(".maps");

static __always_inline bool op_waits(long op)
{
	long cmd = op & FUTEX_CMD_MASK;

	return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
	       cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
}

static __always_inline int on_enter(void *ctx, __u64 uaddr)
{
	struct futex_wait_start stamp = {};

	if (wanted_lock && uaddr != wanted_lock)
		return 0;
	if (current_filtered_out())
		return 0;
	stamp.uaddr = uaddr;
	stamp.user_stack_id = user_stacks ? stack_id_of(ctx, BPF_F_USER_STACK) : STACK_ID_NONE;
	stamp.start_ns = bpf_ktime_get_ns();
	return pending_call_keep(&pending, &stamp);
}

/* futex_waitv(waiters, nr, ...): the lock is the first waiter's word
 * (struct futex_waitv: val, uaddr, flags). */
static __always_inline int on_enter_waitv(void *ctx, __u64 waiters)
{
	__u64 uaddr = 0;

	bpf_probe_read_user(&uaddr, sizeof(uaddr), (void *)(waiters + 8));
	return on_enter(ctx, uaddr);
}

static __always_inline int on_exit(void *ctx, long ret)
{
	static const struct futexctn_value zero = { .min_ns = ~0ULL };
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct futex_wait_start *stamp;
	struct futexctn_value *value;
	struct futexctn_key key = {};
	__u64 delta;

	stamp = bpf_map_lookup_elem(&pending, &tid);
	if (!stamp)
		return 0;
	delta = bpf_ktime_get_ns() - stamp->start_ns;
	key.uaddr = stamp->uaddr;
	key.user_stack_id = stamp->user_stack_id;
	bpf_map_delete_elem(&pending, &tid);
	if (delta < min_wait_ns)
		return 0;
	key.pid = pid_tgid >> 32;
	bpf_get_current_comm(key.comm, sizeof(key.comm));

	value = map_lookup_or_insert(&waits, &key, &zero);
	if (!value) {
		__sync_fetch_and_add(&dropped[FUTEXCTN_KEYS_DROPPED], 1);
		return 0;
	}
	__sync_fetch_and_add(&value->count, 1);
	__sync_fetch_and_add(&value->total_ns, delta);
	/* Not atomic: two threads of one key ending at the same instant may
	 * lose one min or max update, which the classic tools accept too. */
	if (delta < value->min_ns)
		value->min_ns = delta;
	if (delta > value->max_ns)
		value->max_ns = delta;
	log2_hist_add(value->slots, FUTEXCTN_SLOTS, delta / unit_ns);
	return 0;
}

/* Tier 1: the per-call tracepoints (need tracefs). */

SEC("tracepoint/syscalls/sys_enter_futex")
int tp_enter_futex(struct trace_event_raw_sys_enter *ctx)
{
	if (!op_waits(ctx->args[1]))
		return 0;
	return on_enter(ctx, ctx->args[0]);
}
SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int tp_enter_futex_waitv(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter_waitv(ctx, ctx->args[0]);
}
SEC("tracepoint/syscalls/sys_enter_futex_wait")
int tp_enter_futex_wait(struct trace_event_raw_sys_enter *ctx)
{
	return on_enter(ctx, ctx->args[0]);
}

SYSCALL_EXIT(futex)
SYSCALL_EXIT(futex_waitv)
SYSCALL_EXIT(futex_wait)

/* Tier 2: the raw system-call tracepoints, which need no tracefs but run for
 * every system call. */

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = ctx->args[1];

	if (nr == SYSCALL_NR_FUTEX) {
		if (!op_waits(PT_REGS_PARM2_CORE_SYSCALL(regs)))
			return 0;
		return on_enter(ctx, PT_REGS_PARM1_CORE_SYSCALL(regs));
	}
	if (nr == SYSCALL_NR_FUTEX_WAITV)
		return on_enter_waitv(ctx, PT_REGS_PARM1_CORE_SYSCALL(regs));
	if (nr == SYSCALL_NR_FUTEX_WAIT)
		return on_enter(ctx, PT_REGS_PARM1_CORE_SYSCALL(regs));
	return 0;
}

RAW_SYSCALL_EXIT()
