/* The sum of the values each keyed histogram counted, for a Prometheus
 * histogram's _sum (-o prometheus): the hash hist_sums, keyed as the tool's
 * own histograms are. The tool writes HIST_SUMS(its key type) once and calls
 * hist_sum_add(&key, value) beside its log2_hist_add, with the value in the
 * base unit (nanoseconds, bytes), before any division into slots. The loader
 * turns keep_sums on and sizes the map only then (configure_hist_sums in
 * common/export_collector.h): otherwise the map holds one entry and the
 * verifier drops the branch. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"

const volatile bool keep_sums = false;

#define HIST_SUMS(key_type)                                                                        \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(max_entries, 1);                                                            \
		__type(key, key_type);                                                             \
		__type(value, __u64);                                                              \
	} hist_sums SEC(".maps");                                                                  \
	static __always_inline void hist_sum_add(const key_type *key, __u64 value)                 \
	{                                                                                          \
		static const __u64 zero = 0;                                                       \
		__u64 *sum;                                                                        \
                                                                                                   \
		if (!keep_sums)                                                                    \
			return;                                                                    \
		sum = map_lookup_or_insert(&hist_sums, key, &zero);                                \
		if (sum)                                                                           \
			__sync_fetch_and_add(sum, value);                                          \
	}
