/* The shared filters (-p, -t, -u, -c), evaluated in the kernel so that
 * filtered-out events cost nothing beyond the probe. The loader
 * (common/filters.h) sets the switches in rodata, so the verifier removes
 * the checks a run does not use. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define FILTER_MAX_PIDS 64

const volatile bool filter_by_pid = false; /* two or more -p: the filter_pids set */
/* One -p (the usual case): a compare, without the hash lookup a set costs. */
const volatile __u32 filter_single_tgid = 0;
const volatile __u32 filter_tid = 0;
const volatile bool filter_by_uid = false;
const volatile __u32 filter_uid = 0;
const volatile bool filter_by_cgroup = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FILTER_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_cgroup SEC(".maps");

/* True when the current task should not be traced. */
static __always_inline bool current_filtered_out(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	if (filter_tid && (__u32)pid_tgid != filter_tid)
		return true;
	if (filter_single_tgid && tgid != filter_single_tgid)
		return true;
	if (filter_by_pid && !bpf_map_lookup_elem(&filter_pids, &tgid))
		return true;
	if (filter_by_uid && (__u32)bpf_get_current_uid_gid() != filter_uid)
		return true;
	if (filter_by_cgroup && bpf_current_task_under_cgroup(&filter_cgroup, 0) != 1)
		return true;
	return false;
}
