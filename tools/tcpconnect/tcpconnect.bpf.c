// SPDX-License-Identifier: GPL-2.0
/* tcpconnect: active TCP opens. connect() moves its socket from CLOSE to
 * SYN_SENT in the calling task (sock:inet_sock_set_state), so the process
 * is known there; but the kernel picks the source port only after that
 * move. So the move records the process per socket, and the event is sent
 * when the connect() returns in that thread (port chosen, SYN sent), or at
 * the socket's next state change for opens that do not return through
 * connect() (TCP Fast Open sendto(), io_uring) or that fail inside it.
 * Events go to user space; with -C they are counted here instead. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "maps.bpf.h"
#include "sock.bpf.h"
#include "tcpconnect/tcpconnect.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool count_mode = false;
const volatile bool count_sport = false;

struct pending_connect {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	char comm[TCPCONNECT_COMM_LEN];
};

/* Sockets in SYN_SENT not yet reported, by socket address. LRU: an entry
 * whose report was missed must not stay forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending_connect);
} pending SEC(".maps");

/* The socket each thread is connecting, by thread ID. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} connecting_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct tcpconnect_count_key);
	__type(value, __u64);
} counts SEC(".maps");

/* Connections -C could not count because the table was full. */
__u64 counts_dropped = 0;

static __always_inline void count_connect(const struct tcpconnect_event *e)
{
	struct tcpconnect_count_key key = {};

	key.family = e->family;
	key.dport = e->dport;
	key.sport = count_sport ? e->sport : 0;
	__builtin_memcpy(key.saddr, e->saddr, sizeof(key.saddr));
	__builtin_memcpy(key.daddr, e->daddr, sizeof(key.daddr));
	if (!map_count(&counts, &key))
		__sync_fetch_and_add(&counts_dropped, 1);
}

/* Reports the connect of sk that p recorded, and forgets it. */
static __always_inline int report(void *ctx, const struct sock *sk, __u64 key,
				  const struct pending_connect *p)
{
	struct tcpconnect_event e = {};

	e.family = sock_read_endpoints(sk, e.saddr, e.daddr, &e.sport, &e.dport);
	if (family_filtered_out(e.family) || ports_filtered_out(e.sport, e.dport))
		goto done;
	if (count_mode) {
		count_connect(&e);
		goto done;
	}
	e.ts_ns = p->ts_ns;
	e.pid = p->pid;
	e.tid = p->tid;
	e.uid = p->uid;
	__builtin_memcpy(e.comm, p->comm, sizeof(e.comm));
	events_output(ctx, &e, sizeof(e));
done:
	bpf_map_delete_elem(&pending, &key);
	return 0;
}

static __always_inline int on_state(void *ctx, const struct sock *sk, int oldstate, int newstate,
				    __u16 protocol)
{
	struct pending_connect p = {};
	struct pending_connect *found;
	__u64 key = (__u64)sk;
	__u64 pid_tgid;

	if (oldstate == SOCK_TCP_SYN_SENT) {
		/* Established, refused, or failed before connect() returned. */
		found = bpf_map_lookup_elem(&pending, &key);
		if (found)
			report(ctx, sk, key, found);
		return 0;
	}
	if (oldstate != SOCK_TCP_CLOSE || newstate != SOCK_TCP_SYN_SENT)
		return 0;
	if (protocol != SOCK_IPPROTO_TCP || current_filtered_out())
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	p.ts_ns = bpf_ktime_get_ns();
	p.pid = pid_tgid >> 32;
	p.tid = (__u32)pid_tgid;
	p.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(p.comm, sizeof(p.comm));
	bpf_map_update_elem(&pending, &key, &p, BPF_ANY);
	bpf_map_update_elem(&connecting_threads, &p.tid, &key, BPF_ANY);
	return 0;
}

/* The connecting thread leaves the system call: the source port is set. */
static __always_inline int on_syscall_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_connect *p;
	__u64 *skp, key;

	skp = bpf_map_lookup_elem(&connecting_threads, &tid);
	if (!skp)
		return 0;
	key = *skp;
	bpf_map_delete_elem(&connecting_threads, &tid);
	p = bpf_map_lookup_elem(&pending, &key);
	if (p && p->tid == tid)
		report(ctx, (const struct sock *)key, key, p);
	return 0;
}

/* State changes, tier 1: the BTF-typed tracepoint (5.5+). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (oldstate != SOCK_TCP_SYN_SENT && newstate != SOCK_TCP_SYN_SENT)
		return 0;
	return on_state(ctx, sk, oldstate, newstate, sock_protocol(sk));
}

/* Tier 2: the raw tracepoint. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (oldstate != SOCK_TCP_SYN_SENT && newstate != SOCK_TCP_SYN_SENT)
		return 0;
	return on_state(ctx, sk, oldstate, newstate, sock_protocol(sk));
}

/* Tier 3: the tracepoint (needs tracefs). */
SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return on_state(ctx, ctx->skaddr, ctx->oldstate, ctx->newstate, ctx->protocol);
}

/* connect() returns, tier 1: its own exit tracepoint (needs tracefs). */
SEC("tracepoint/syscalls/sys_exit_connect")
int tp_exit_connect(struct trace_event_raw_sys_exit *ctx) { return on_syscall_exit(ctx); }

/* Tier 2: the raw exit of every system call; only threads that just moved
 * a socket to SYN_SENT have an entry, and their next exit is connect()'s. */
SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx) { return on_syscall_exit(ctx); }
