// SPDX-License-Identifier: GPL-2.0
/* tcptop: bytes each process sends and receives on each TCP connection,
 * counted per interval in a hash map user space empties as it reads. The
 * hooks (bpf/tcp_bytes.bpf.h) run in the system call that moves the bytes,
 * so the current task is the sender or receiver. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "filters.bpf.h"
#include "sock.bpf.h"
#include "tcp_bytes.bpf.h"
#include "tcptop/tcptop.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCPTOP_CONNECTIONS);
	__type(key, struct tcptop_key);
	__type(value, struct tcptop_bytes);
} bytes SEC(".maps");

/* Counts the table had no room for, in bytes. */
__u64 bytes_dropped = 0;

static __always_inline void tcp_bytes_seen(const struct sock *sk, __u32 n, bool sent)
{
	struct tcptop_key key;
	struct tcptop_bytes *value;

	if (current_filtered_out())
		return;
	__builtin_memset(&key, 0, sizeof(key));
	key.family = sock_read_endpoints(sk, key.laddr, key.raddr, &key.lport, &key.rport);
	if (family_filtered_out(key.family))
		return;
	key.pid = bpf_get_current_pid_tgid() >> 32;
	value = bpf_map_lookup_elem(&bytes, &key);
	if (!value) {
		struct tcptop_bytes initial = {};

		bpf_get_current_comm(initial.comm, sizeof(initial.comm));
		bpf_map_update_elem(&bytes, &key, &initial, BPF_NOEXIST);
		value = bpf_map_lookup_elem(&bytes, &key);
		if (!value) {
			__sync_fetch_and_add(&bytes_dropped, n);
			return;
		}
	}
	if (sent)
		__sync_fetch_and_add(&value->sent, n);
	else
		__sync_fetch_and_add(&value->received, n);
}
