// SPDX-License-Identifier: GPL-2.0
/* biotop: block I/O per process, disk and direction, counted in a hash map
 * that user space empties every interval; nothing goes to user space per
 * request.
 *
 * Where a request starts (bpf/block_requests.bpf.h: block_io_start on
 * 6.5+, else the first of insert and issue) its submitter is recorded
 * (current there; completion runs in interrupt context); issue stamps the
 * start of the device's latency, the disk, direction and size; completion
 * adds one request, its bytes and its latency to the submitter's entry.
 * Requests without data (flushes) are not counted. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "block.bpf.h"
#include "filters.bpf.h"
#include "maps.bpf.h"
#include "biotop/biotop.h"

char LICENSE[] SEC("license") = "GPL";

/* Where struct request is among the tracepoint's arguments: 1 before 5.11
 * (the request_queue came first), 0 since. The loader reads it from BTF. */
const volatile __u32 insert_rq_arg = 0;
const volatile __u32 issue_rq_arg = 0;
const volatile __u32 merge_rq_arg = 0;

const volatile __u32 only_dev = 0; /* --disk: its dev_t; 0 for all */

/* Requests the table of totals had no room for. */
__u64 requests_dropped = 0;

struct request_info {
	__u64 issue_ns; /* 0 until issued */
	__u64 bytes;
	struct biotop_key key; /* the submitter's entry, disk and direction from issue */
	bool wanted;	       /* the submitter passed -p, -t, -u, -c */
	__u8 pad[7];
};

#define BLOCK_REQUEST_INFO struct request_info
#include "block_requests.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIOTOP_MAX_KEYS);
	__type(key, struct biotop_key);
	__type(value, struct biotop_value);
} totals SEC(".maps");

static __always_inline void block_request_started(void *ctx, const struct block_request_key *key)
{
	struct request_info fresh = {};

	fresh.key.pid = bpf_get_current_pid_tgid() >> 32;
	fresh.wanted = !current_filtered_out();
	bpf_get_current_comm(fresh.key.comm, sizeof(fresh.key.comm));
	bpf_map_update_elem(&requests, key, &fresh, BPF_ANY);
}

static __always_inline void block_request_issued(const struct block_request_key *key, __u32 dev,
						 __u32 op, __u64 bytes)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);

	if (!info)
		return;
	info->issue_ns = bpf_ktime_get_ns();
	info->bytes = bytes;
	info->key.dev = dev;
	info->key.write = op & 1; /* op_is_write(): the write-type ops are odd */
}

static __always_inline void block_request_completed(const struct block_request_key *key)
{
	struct request_info *info = bpf_map_lookup_elem(&requests, key);
	static const struct biotop_value zero;
	struct biotop_value *value;
	__u64 now;

	if (!info)
		return;
	now = bpf_ktime_get_ns();
	/* Issued before we attached, filtered out, or without data. */
	if (!info->issue_ns || !info->wanted || !info->bytes || now < info->issue_ns)
		goto done;
	value = map_lookup_or_insert(&totals, &info->key, &zero);
	if (!value) {
		__sync_fetch_and_add(&requests_dropped, 1);
		goto done;
	}
	__sync_fetch_and_add(&value->io, 1);
	__sync_fetch_and_add(&value->bytes, info->bytes);
	__sync_fetch_and_add(&value->total_ns, now - info->issue_ns);
done:
	bpf_map_delete_elem(&requests, key);
}
