/* Aggregates in hash maps, shared by every tool that keys its counts or
 * histograms by something it sees (a stack, a handler, a connection). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* The value of key in a hash map, inserted as *initial when missing; NULL
 * when the map is full. Another CPU may insert the same key between the
 * lookup and the insert: then BPF_NOEXIST makes ours fail and the second
 * lookup finds theirs, so no update is lost to the race. */
static __always_inline void *map_lookup_or_insert(void *map, const void *key, const void *initial)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	bpf_map_update_elem(map, key, initial, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* Adds one to key's count in a hash map of __u64 counts; false when the
 * map is full. */
static __always_inline bool map_count(void *map, const void *key)
{
	static const __u64 zero = 0;
	__u64 *count = map_lookup_or_insert(map, key, &zero);

	if (!count)
		return false;
	__sync_fetch_and_add(count, 1);
	return true;
}
