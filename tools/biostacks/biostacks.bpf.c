// SPDX-License-Identifier: GPL-2.0
/* biostacks: block I/O latency by the kernel stack that started the
 * request, with the submitting process and the disk. Where a request starts
 * (bpf/block_requests.bpf.h: block_io_start on 6.5+, else the first of
 * insert and issue) the kernel stack is taken (current is the submitter
 * there; completion runs in interrupt context), with the process and the
 * time; issue adds the disk; completion adds the time from start to
 * completion to the entry of that stack, process and disk: a count, a sum
 * and a log2 histogram. Nothing goes to user space per request: the loader
 * reads the map once, at the end. Requests without data (flushes) are not
 * counted. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "filters.bpf.h"
#include "log2.bpf.h"
#include "maps.bpf.h"
#include "stacks.bpf.h"
#include "biostacks/biostacks.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request is among the tracepoint's arguments: 1 before 5.11
 * (the request_queue came first), 0 since. The loader reads it from BTF. */
const volatile __u32 insert_rq_arg = 0;
const volatile __u32 issue_rq_arg = 0;
const volatile __u32 merge_rq_arg = 0;

const volatile __u32 only_dev = 0; /* --disk: its dev_t; 0 for all */
/* The histogram's unit: 1000 for usecs, 1000000 for msecs (-m). */
const volatile __u64 unit_ns = 1000;

/* Requests the table of totals had no room for. */
__u64 requests_dropped = 0;

struct request_info {
	__u64 start_ns;
	__u64 bytes;		  /* 0 until issued */
	struct biostacks_key key; /* the submitter and its stack; the disk from issue */
	bool wanted;		  /* the submitter passed -p, -t, -u, -c */
	__u8 pad[7];
};

#define BLOCK_REQUEST_INFO struct request_info
#include "block_requests.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOSTACKS_MAX_KEYS);
	__type(key, struct biostacks_key);
	__type(value, struct biostacks_value);
} totals SEC(".maps");

/* Too large for the stack: the initial value of a new entry. */
static const struct biostacks_value empty_value;

/* A request starts: its submitter is current, and so is the stack. */
static __always_inline void block_request_started(void *ctx, const struct block_request_key *key)
{
	struct request_info fresh = {};

	fresh.wanted = !current_filtered_out();
	fresh.start_ns = bpf_ktime_get_ns();
	fresh.key.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(fresh.key.comm, sizeof(fresh.key.comm));
	fresh.key.kernel_stack_id = fresh.wanted ? stack_id_of(ctx, 0) : STACK_ID_NONE;
	bpf_map_update_elem(&requests, key, &fresh, BPF_ANY);
}

static __always_inline void block_request_issued(const struct block_request_key *key, __u32 dev,
						 __u32 op, __u64 bytes)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);

	if (!info)
		return;
	info->bytes = bytes;
	info->key.dev = dev;
}

static __always_inline void block_request_completed(const struct block_request_key *key)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);
	struct biostacks_value *value;
	__u64 delta;

	if (!info)
		return;
	delta = bpf_ktime_get_ns() - info->start_ns;
	/* Not issued in our sight, filtered out, or without data. */
	if (!info->bytes || !info->wanted || (__s64)delta < 0)
		goto done;
	value = map_lookup_or_insert(&totals, &info->key, &empty_value);
	if (!value) {
		__sync_fetch_and_add(&requests_dropped, 1);
		goto done;
	}
	__sync_fetch_and_add(&value->count, 1);
	__sync_fetch_and_add(&value->total_ns, delta);
	log2_hist_add(value->slots, BIOSTACKS_SLOTS, delta / unit_ns);
done:
	bpf_map_delete_elem(&requests, key);
}
