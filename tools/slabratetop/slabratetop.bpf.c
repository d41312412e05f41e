// SPDX-License-Identifier: GPL-2.0
/* slabratetop: slab allocations and their bytes per cache, counted in a hash
 * map user space empties every interval; no event per allocation.
 *
 * kmem:kmem_cache_alloc passes the cache (struct kmem_cache *) since 6.1:
 * the BTF and raw tracepoints read its name and size once per cache and
 * interval, and key the map by its address. The tracefs record has the
 * cache's name only on recent kernels (the loader offers that tier only
 * there), and bytes_alloc; the key is then a hash of the name. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "slabratetop/slabratetop.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLABRATETOP_CACHES);
	__type(key, struct slabratetop_key);
	__type(value, struct slabratetop_value);
} caches SEC(".maps");

/* Allocations the table had no room for. */
__u64 allocs_dropped = 0;

/* The cache's entry, made with initial when it has none; NULL when full. */
static __always_inline struct slabratetop_value *entry(struct slabratetop_key *key,
						       struct slabratetop_value *initial)
{
	struct slabratetop_value *value;

	bpf_map_update_elem(&caches, key, initial, BPF_NOEXIST);
	value = bpf_map_lookup_elem(&caches, key);
	if (!value)
		__sync_fetch_and_add(&allocs_dropped, 1);
	return value;
}

/* Tiers 1 and 2: (call_site, ptr, s, gfp_flags, node). The object's
 * pointer is not read: 6.1's verifier refuses a tp_btf program reading a
 * void * argument, so a failed allocation (rare) counts too, on every tier. */
static __always_inline int on_alloc(struct kmem_cache *s)
{
	struct slabratetop_key key = { .cache = (__u64)s };
	struct slabratetop_value *value;

	if (!s || current_filtered_out())
		return 0;
	value = bpf_map_lookup_elem(&caches, &key);
	if (!value) {
		struct slabratetop_value initial = {};
		const char *name = BPF_CORE_READ(s, name);

		initial.size = BPF_CORE_READ(s, size);
		bpf_probe_read_kernel_str(initial.name, sizeof(initial.name), name);
		value = entry(&key, &initial);
		if (!value)
			return 0;
	}
	__sync_fetch_and_add(&value->allocs, 1);
	__sync_fetch_and_add(&value->bytes, value->size);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(btf_alloc) { return on_alloc((struct kmem_cache *)ctx[2]); }

SEC("raw_tp/kmem_cache_alloc")
int BPF_PROG(raw_alloc) { return on_alloc((struct kmem_cache *)ctx[2]); }

/* Tier 3: the tracefs record, with its name (6.x recent) and bytes_alloc. */

struct trace_event_raw_kmem_cache_alloc___named {
	__u32 __data_loc_name;
	size_t bytes_alloc;
} __attribute__((preserve_access_index));

SEC("tracepoint/kmem/kmem_cache_alloc")
int tp_alloc(struct trace_event_raw_kmem_cache_alloc___named *args)
{
	struct slabratetop_value initial = {};
	struct slabratetop_key key = { .cache = 0xcbf29ce484222325ULL }; /* FNV-1a */
	struct slabratetop_value *value;
	__u32 loc;

	if (current_filtered_out())
		return 0;
	if (!bpf_core_field_exists(args->__data_loc_name))
		return 0; /* not offered then */
	loc = args->__data_loc_name;
	bpf_probe_read_kernel_str(initial.name, sizeof(initial.name),
				  (void *)args + (loc & 0xffff));
	for (int i = 0; i < SLABRATETOP_NAME_LEN; i++) {
		if (!initial.name[i])
			break;
		key.cache = (key.cache ^ (__u8)initial.name[i]) * 0x100000001b3ULL;
	}
	value = bpf_map_lookup_elem(&caches, &key);
	if (!value) {
		value = entry(&key, &initial);
		if (!value)
			return 0;
	}
	__sync_fetch_and_add(&value->allocs, 1);
	__sync_fetch_and_add(&value->bytes, args->bytes_alloc);
	return 0;
}
