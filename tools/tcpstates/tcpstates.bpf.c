// SPDX-License-Identifier: GPL-2.0
/* tcpstates: every TCP state change, from sock:inet_sock_set_state, with the
 * time the socket spent in the state it leaves (from its previous change,
 * kept per socket) and the socket's owner. Most changes run in softirq
 * context under an unrelated task, so the owner comes from
 * bpf/sock_owners.bpf.h: recorded at the changes a system call makes in the
 * owning process (connect(): CLOSE -> SYN_SENT; listen(): -> LISTEN;
 * close() or shutdown(): -> FIN_WAIT1, -> LAST_ACK) and at the return of
 * accept() and accept4() (the socket behind the new descriptor). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sock.bpf.h"
#include "sock_owners.bpf.h"
#include "syscall_nr.bpf.h"
#include "syscall_regs.bpf.h"
#include "tcpstates/tcpstates.h"

char LICENSE[] SEC("license") = "GPL";

/* When each socket last changed state. LRU: a socket whose move to CLOSE
 * was missed must not pin an entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} last_change SEC(".maps");

/* The changes that run in the owner's system call. */
static __always_inline bool made_by_owner(int oldstate, int newstate)
{
	return (oldstate == SOCK_TCP_CLOSE && newstate == SOCK_TCP_SYN_SENT) ||
	       newstate == SOCK_TCP_LISTEN || newstate == SOCK_TCP_FIN_WAIT1 ||
	       newstate == SOCK_TCP_LAST_ACK;
}

/* e has the family, addresses and ports. */
static __always_inline int report(void *ctx, const struct sock *sk, int oldstate, int newstate,
				  struct tcpstates_event *e)
{
	const struct sock_owner *owner;
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	__u64 *last;

	if (made_by_owner(oldstate, newstate))
		sock_owner_remember(sk);
	last = bpf_map_lookup_elem(&last_change, &key);
	if (last) {
		e->in_old_ns = now - *last;
		e->in_old_known = 1;
	}
	if (newstate == SOCK_TCP_CLOSE)
		bpf_map_delete_elem(&last_change, &key);
	else
		bpf_map_update_elem(&last_change, &key, &now, BPF_ANY);

	owner = sock_owner_of(sk);
	if (sock_owner_filtered_out(owner) || family_filtered_out(e->family) ||
	    ports_filtered_out(e->lport, e->rport))
		goto done;
	e->owner_known = SOCK_OWNER_FILL(e, owner);
	e->ts_ns = now;
	e->skaddr = key;
	e->oldstate = (__u8)oldstate;
	e->newstate = (__u8)newstate;
	events_output(ctx, e, sizeof(*e));
done:
	if (newstate == SOCK_TCP_CLOSE)
		sock_owner_forget(sk);
	return 0;
}

static __always_inline int on_state(void *ctx, const struct sock *sk, int oldstate, int newstate)
{
	struct tcpstates_event e = {};

	if (sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	e.family = sock_read_endpoints(sk, e.laddr, e.raddr, &e.lport, &e.rport);
	return report(ctx, sk, oldstate, newstate, &e);
}

/* State changes, tier 1: the BTF-typed tracepoint (5.5+). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(ctx, sk, oldstate, newstate);
}

/* Tier 2: the raw tracepoint. */
SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(ctx, sk, oldstate, newstate);
}

/* Tier 3: the tracepoint (needs tracefs). */
SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct tcpstates_event e = {};

	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	e.family = SOCK_TP_READ_ENDPOINTS(ctx, e.laddr, e.raddr, &e.lport, &e.rport);
	return report(ctx, ctx->skaddr, ctx->oldstate, ctx->newstate, &e);
}

/* accept() returned a connection: its process owns it now. */
static __always_inline int on_accepted(long ret)
{
	struct sock *sk;

	if (ret < 0)
		return 0;
	sk = sock_from_fd((int)ret);
	if (sk && sock_protocol(sk) == SOCK_IPPROTO_TCP)
		sock_owner_remember(sk);
	return 0;
}

/* accept returns, tier 1: the calls' own exit tracepoints (need tracefs). */
SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_exit_accept4(struct trace_event_raw_sys_exit *ctx) { return on_accepted(ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_exit_accept(struct trace_event_raw_sys_exit *ctx) { return on_accepted(ctx->ret); }

/* Tier 2: the raw exit of every system call, which stops at once for all
 * but the accepts (their number is in the saved registers). */
SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = syscall_nr_of((struct pt_regs *)ctx->args[0]);

	if (nr != SYSCALL_NR_ACCEPT4 && nr != SYSCALL_NR_ACCEPT)
		return 0;
	return on_accepted(ctx->args[1]);
}
