/* Which process owns a socket, for the hooks that fire where the current
 * task is not the owner: sock:inet_sock_set_state, the tcp tracepoints and
 * skb:kfree_skb run in softirq context for most packets, on whatever task
 * the CPU happened to be running.
 *
 * A tool records the owner at a hook that runs in the owner's system call
 * (connect, accept4, listen, bind, sendmsg...), and looks it up where it
 * reports. A socket whose owner was never seen reads as unknown (NULL):
 * the tool prints it so (Task::known = false in user space), never the
 * current task's name.
 *
 * The table is an LRU hash keyed by the struct sock address: a socket that
 * closes without the tool seeing it must not pin an entry. A freed socket's
 * address can be reused by a new one: sock_owner_forget() at CLOSE, and
 * sock_owner_remember() overwriting, keep a stale entry from naming the new
 * socket's owner. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "filters.bpf.h"

#define SOCK_OWNER_COMM_LEN 16
#ifndef SOCK_OWNERS_MAX
#define SOCK_OWNERS_MAX 65536
#endif

struct sock_owner {
	__u32 pid;
	__u32 tid;
	__u32 uid;
	bool filtered_out; /* by -p -t -u -c, judged in the owner's context */
	char comm[SOCK_OWNER_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_OWNERS_MAX);
	__type(key, __u64);
	__type(value, struct sock_owner);
} sock_owners SEC(".maps");

/* Call only in the owner's process context (a system call's hook, or a
 * state change a system call makes: CLOSE->SYN_SENT in connect, ->LISTEN
 * in listen). The latest process to act on the socket wins: a socket
 * passed to a child, or accepted by one worker of many, is shown with
 * whoever used it last. */
static __always_inline void sock_owner_remember(const void *sk)
{
	struct sock_owner owner = {};
	__u64 key = (__u64)sk;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!sk)
		return;
	owner.pid = pid_tgid >> 32;
	owner.tid = (__u32)pid_tgid;
	owner.uid = (__u32)bpf_get_current_uid_gid();
	owner.filtered_out = current_filtered_out();
	bpf_get_current_comm(owner.comm, sizeof(owner.comm));
	bpf_map_update_elem(&sock_owners, &key, &owner, BPF_ANY);
}

/* The owner recorded for sk, or NULL: unknown. */
static __always_inline const struct sock_owner *sock_owner_of(const void *sk)
{
	__u64 key = (__u64)sk;

	return bpf_map_lookup_elem(&sock_owners, &key);
}

/* At the socket's end (the move to CLOSE, after the tool has reported). */
static __always_inline void sock_owner_forget(const void *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&sock_owners, &key);
}

/* Copies the owner of sk into an event's pid, tid, uid and comm, and says
 * whether it is known. Unknown leaves them zero; -p -t -u -c then drop the
 * event (sock_owner_filtered_out), since it cannot be shown to match. */
#define SOCK_OWNER_FILL(e, owner)                                                                  \
	({                                                                                         \
		bool __known = (owner) != NULL;                                                    \
		if (__known) {                                                                     \
			(e)->pid = (owner)->pid;                                                   \
			(e)->tid = (owner)->tid;                                                   \
			(e)->uid = (owner)->uid;                                                   \
			__builtin_memcpy((e)->comm, (owner)->comm, SOCK_OWNER_COMM_LEN);           \
		}                                                                                  \
		__known;                                                                           \
	})

/* True when the shared filters exclude the owner, or when a filter is set
 * and the owner is unknown. */
static __always_inline bool sock_owner_filtered_out(const struct sock_owner *owner)
{
	if (owner)
		return owner->filtered_out;
	return filter_by_pid || filter_single_tgid || filter_tid || filter_by_uid ||
	       filter_by_cgroup;
}
