// SPDX-License-Identifier: GPL-2.0
/* corescope triage: in one object, the BPF half of the incident checklist.
 * Every program only updates in-kernel aggregates (histograms and counts);
 * nothing is streamed, so the cost per event is a map update. Each source
 * has a cheap tier (tp_btf) and a fallback (raw_tp or tracepoint); the
 * loader keeps what this kernel offers and reports what it could not. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "block.bpf.h"
#include "file_rw.bpf.h"
#include "file_rw_by_file.bpf.h"
#include "hardirq_time.bpf.h"
#include "softirq_time.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "page_cache.bpf.h"
#include "sock.bpf.h"
#include "tcp_connect_latency.bpf.h"
#include "triage_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request sits in block_rq_issue's arguments (0 since 5.11, 1
 * before, when the queue came first); set by the loader from BTF. */
const volatile __u32 rq_issue_arg = 0;

/* skb:kfree_skb carries the drop reason since 5.17; set by the loader. */
const volatile bool kfree_skb_has_reason = true;

/* --- run-queue latency: wake-up (or preemption) to running --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} runnable_since SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct triage_hist);
} run_queue_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tgid */
	__type(value, struct triage_waiter);
} waiters SEC(".maps");

static __always_inline void mark_runnable(struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	__u64 now;

	if (!tid)
		return;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&runnable_since, &tid, &now, BPF_ANY);
}

/* task_struct.state became __state in 5.14. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	struct task_struct___old *old = (void *)t;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ(old, state);
}

static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next)
{
	__u32 tid, tgid, zero = 0;
	struct triage_waiter *w, fresh = {};
	struct triage_hist *hist;
	__u64 *since, delta;

	/* A preempted task is runnable again at once. */
	if (task_state(prev) == 0 /* TASK_RUNNING */)
		mark_runnable(prev);

	tid = BPF_CORE_READ(next, pid);
	since = bpf_map_lookup_elem(&runnable_since, &tid);
	if (!since)
		return;
	delta = bpf_ktime_get_ns() - *since;
	bpf_map_delete_elem(&runnable_since, &tid);

	hist = bpf_map_lookup_elem(&run_queue_hist, &zero);
	if (hist) {
		__u32 slot = log2_u64(delta / 1000);

		if (slot >= TRIAGE_SLOTS)
			slot = TRIAGE_SLOTS - 1;
		hist->slots[slot]++; /* per-CPU copy */
	}
	tgid = BPF_CORE_READ(next, tgid);
	w = bpf_map_lookup_elem(&waiters, &tgid);
	if (!w) {
		BPF_CORE_READ_STR_INTO(&fresh.comm, next, group_leader, comm);
		bpf_map_update_elem(&waiters, &tgid, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&waiters, &tgid);
		if (!w)
			return;
	}
	__sync_fetch_and_add(&w->wait_ns, delta);
	__sync_fetch_and_add(&w->count, 1);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_sched_wakeup, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(btf_sched_wakeup_new, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(prev, next);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_sched_wakeup, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(raw_sched_wakeup_new, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(prev, next);
	return 0;
}

/* --- block I/O latency per disk: issue to completion --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* struct request * */
	__type(value, __u64);
} issued_at SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* dev_t */
	__type(value, struct triage_hist);
} disk_hist SEC(".maps");

static __always_inline void on_issue(struct request *rq)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();

	bpf_map_update_elem(&issued_at, &key, &now, BPF_ANY);
}

static __always_inline void on_complete(struct request *rq)
{
	__u64 key = (__u64)rq, *start, delta;
	struct triage_hist *hist, zero = {};
	__u32 dev;

	start = bpf_map_lookup_elem(&issued_at, &key);
	if (!start)
		return;
	delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&issued_at, &key);
	dev = block_rq_dev(rq);
	hist = map_lookup_or_insert(&disk_hist, &dev, &zero);
	if (!hist)
		return;
	log2_hist_add(hist->slots, TRIAGE_SLOTS, delta / 1000);
}

SEC("tp_btf/block_rq_issue")
int btf_block_rq_issue(__u64 *ctx)
{
	on_issue((struct request *)ctx[rq_issue_arg & 1]);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(btf_block_rq_complete, struct request *rq)
{
	on_complete(rq);
	return 0;
}

SEC("raw_tp/block_rq_issue")
int raw_block_rq_issue(struct bpf_raw_tracepoint_args *ctx)
{
	on_issue((struct request *)ctx->args[rq_issue_arg & 1]);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(raw_block_rq_complete, struct request *rq)
{
	on_complete(rq);
	return 0;
}

/* --- new processes by command --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct triage_comm_key);
	__type(value, __u64);
} exec_counts SEC(".maps");

static __always_inline void count_exec(void)
{
	struct triage_comm_key key = {};

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	map_count(&exec_counts, &key);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_sched_process_exec)
{
	count_exec();
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_sched_process_exec)
{
	count_exec();
	return 0;
}

/* --- signals that end their target, by signal and target command --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct triage_signal_key);
	__type(value, __u64);
} fatal_signals SEC(".maps");

#define TRIAGE_SIGKILL 9

/* Whether the target takes sig with its default action (SIG_DFL): a
 * handler or SIG_IGN would keep it alive. A fault the task cannot handle
 * has been reset to SIG_DFL before the signal is generated. */
static __always_inline bool default_action(struct task_struct *task, int sig)
{
	struct sighand_struct *sighand = BPF_CORE_READ(task, sighand);
	void *handler = (void *)1;
	__u64 offset;

	if (sig < 1 || sig > 64 || !sighand)
		return false;
	offset = bpf_core_field_offset(struct sighand_struct, action) +
		 (sig - 1) * bpf_core_type_size(struct k_sigaction) +
		 bpf_core_field_offset(struct k_sigaction, sa) +
		 bpf_core_field_offset(struct sigaction, sa_handler);
	if (bpf_probe_read_kernel(&handler, sizeof(handler), (void *)sighand + offset))
		return false;
	return handler == NULL;
}

/* Queued signals the target takes by default (user space keeps those whose
 * default ends a process), and every SIGKILL. result 0 is delivered, 4
 * delivered without its siginfo. */
static __always_inline void count_fatal_signal(int sig, struct task_struct *task, int result)
{
	struct triage_signal_key key = {};

	if (result != 0 && result != 4)
		return;
	if (sig != TRIAGE_SIGKILL && !default_action(task, sig))
		return;
	key.sig = sig;
	BPF_CORE_READ_STR_INTO(&key.comm, task, comm);
	map_count(&fatal_signals, &key);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(btf_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	count_fatal_signal(sig, task, result);
	return 0;
}

SEC("raw_tp/signal_generate")
int BPF_PROG(raw_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	count_fatal_signal(sig, task, result);
	return 0;
}

/* --- failed opens by command and errno --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct triage_failed_open_key);
	__type(value, __u64);
} failed_opens SEC(".maps");

static __always_inline int count_failed_open(long ret)
{
	struct triage_failed_open_key key = {};

	if (ret >= 0)
		return 0;
	key.err = -ret;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	map_count(&failed_opens, &key);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tp_exit_openat(struct trace_event_raw_sys_exit *ctx) { return count_failed_open(ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_open")
int tp_exit_open(struct trace_event_raw_sys_exit *ctx) { return count_failed_open(ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_openat2")
int tp_exit_openat2(struct trace_event_raw_sys_exit *ctx) { return count_failed_open(ctx->ret); }

/* --- OOM kills, as the kernel marks each victim --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct triage_oom);
} oom_victims SEC(".maps");

SEC("tracepoint/oom/mark_victim")
int tp_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct triage_oom victim = {};
	__u32 comm_offset = ctx->__data_loc_comm & 0xffff;

	victim.pid = ctx->pid;
	victim.rss_kb = ctx->anon_rss + ctx->file_rss + ctx->shmem_rss;
	bpf_probe_read_kernel_str(victim.comm, sizeof(victim.comm), (void *)ctx + comm_offset);
	bpf_map_update_elem(&oom_victims, &victim.pid, &victim, BPF_ANY);
	return 0;
}

/* --- DNS lookups through the C library: the latency of getaddrinfo(),
 * gethostbyname() and gethostbyname2(), one entry program for all three
 * (uprobes; BPF_KPROBE only names the context, libbpf 1.1 has no
 * BPF_UPROBE) --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} lookup_started SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct triage_hist);
} dns_hist SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(dns_lookup_enter)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&lookup_started, &tid, &now, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(dns_lookup_exit)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	__u64 *start = bpf_map_lookup_elem(&lookup_started, &tid);
	struct triage_hist *hist;

	if (!start)
		return 0;
	hist = bpf_map_lookup_elem(&dns_hist, &zero);
	if (hist)
		log2_hist_add(hist->slots, TRIAGE_SLOTS, (bpf_ktime_get_ns() - *start) / 1000);
	bpf_map_delete_elem(&lookup_started, &tid);
	return 0;
}

/* --- time in interrupt handlers: hard IRQs per handler, softirqs per vector --- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hardirq_key);
	__type(value, struct triage_irq_time);
} hardirq_time SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRIAGE_SOFTIRQ_VECTORS);
	__type(key, __u32);
	__type(value, struct triage_irq_time);
} softirq_time SEC(".maps");

static __always_inline void hardirq_ran(const struct hardirq_key *key, __u64 ns)
{
	static const struct triage_irq_time zero = {};
	struct triage_irq_time *t = map_lookup_or_insert(&hardirq_time, key, &zero);

	if (!t)
		return;
	__sync_fetch_and_add(&t->count, 1);
	__sync_fetch_and_add(&t->ns, ns);
}

HARDIRQ_PROGRAMS()

static __always_inline void softirq_done(__u32 vec)
{
	struct triage_irq_time *t;
	__u64 ns = 0;

	if (!softirq_exited(vec, bpf_ktime_get_ns(), &ns))
		return;
	t = bpf_map_lookup_elem(&softirq_time, &vec);
	if (t) { /* per-CPU copy */
		t->count++;
		t->ns += ns;
	}
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(btf_softirq_entry, unsigned int vec)
{
	softirq_entered(vec, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(btf_softirq_exit, unsigned int vec)
{
	softirq_done(vec);
	return 0;
}

SEC("raw_tp/softirq_entry")
int raw_softirq_entry(struct bpf_raw_tracepoint_args *ctx)
{
	softirq_entered((__u32)ctx->args[0], bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/softirq_exit")
int raw_softirq_exit(struct bpf_raw_tracepoint_args *ctx)
{
	softirq_done((__u32)ctx->args[0]);
	return 0;
}

/* --- packets dropped, by the kernel's reason (names: common/drop_reasons.h;
 * the user side leaves out the reasons that mark a packet not dropped) ---
 * Every dropped packet of any protocol runs this: a per-CPU count, so a
 * flood of drops on several CPUs does not contend on one counter. */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* enum skb_drop_reason, or TRIAGE_DROP_REASON_UNKNOWN */
	__type(value, __u64);
} drops_by_reason SEC(".maps");

static __always_inline void count_drop(__u32 reason) { map_count(&drops_by_reason, &reason); }

SEC("tp_btf/kfree_skb")
int BPF_PROG(btf_kfree_skb, struct sk_buff *skb, void *location)
{
	/* Only read where the kernel has it: the verifier refuses a read past
	 * the tracepoint's arguments, and drops the dead branch. */
	count_drop(kfree_skb_has_reason ? (__u32)ctx[2] : TRIAGE_DROP_REASON_UNKNOWN);
	return 0;
}

SEC("raw_tp/kfree_skb")
int BPF_PROG(raw_kfree_skb, struct sk_buff *skb, void *location)
{
	count_drop(kfree_skb_has_reason ? (__u32)ctx[2] : TRIAGE_DROP_REASON_UNKNOWN);
	return 0;
}

SEC("tracepoint/skb/kfree_skb")
int tp_kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	__u32 reason = TRIAGE_DROP_REASON_UNKNOWN;

	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	count_drop(reason);
	return 0;
}

/* --- active TCP connects: latency of the established ones, count of the
 * failed ones (bpf/tcp_connect_latency.bpf.h, as tcpconnlat) --- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct triage_connects);
} connects SEC(".maps");

static __always_inline void on_tcp_state(const struct sock *sk, int oldstate, int newstate)
{
	struct triage_connects *c;
	enum tcp_connect_phase phase;
	__u64 latency_ns = 0;
	__u32 zero = 0;

	phase = tcp_connect_latency_on_state(sk, oldstate, newstate, true, &latency_ns);
	if (phase != TCP_CONNECT_ESTABLISHED && phase != TCP_CONNECT_FAILED)
		return;
	c = bpf_map_lookup_elem(&connects, &zero);
	if (!c)
		return;
	if (phase == TCP_CONNECT_FAILED)
		__sync_fetch_and_add(&c->failed, 1);
	else
		log2_hist_add(c->latency_us.slots, TRIAGE_SLOTS, latency_ns / 1000);
}

/* Most state changes are neither a connect's start nor its end: they stop
 * at the first comparison. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if ((oldstate == SOCK_TCP_SYN_SENT || newstate == SOCK_TCP_SYN_SENT) &&
	    sock_protocol(sk) == SOCK_IPPROTO_TCP)
		on_tcp_state(sk, oldstate, newstate);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if ((oldstate == SOCK_TCP_SYN_SENT || newstate == SOCK_TCP_SYN_SENT) &&
	    sock_protocol(sk) == SOCK_IPPROTO_TCP)
		on_tcp_state(sk, oldstate, newstate);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if ((ctx->oldstate == SOCK_TCP_SYN_SENT || ctx->newstate == SOCK_TCP_SYN_SENT) &&
	    ctx->protocol == SOCK_IPPROTO_TCP)
		on_tcp_state(ctx->skaddr, ctx->oldstate, ctx->newstate);
	return 0;
}

/* Page cache hits and misses: cachestat's counters. */
PAGE_CACHE_PROGRAMS()

/* Reads and writes of regular files by process and file: filetop's
 * counting. The loader sets file_rw_self_tgid, so triage's own output is
 * left out. */
static bool file_rw_wanted(struct file *file, __u64 *cookie)
{
	return (file_rw_mode(file) & FILE_RW_MODE_TYPE) == FILE_RW_MODE_REGULAR;
}

static void file_rw_done(struct file *file, __u64 cookie, bool write, long bytes)
{
	file_rw_count_by_file(file, write, bytes);
}

FILE_RW_PROGRAMS()
