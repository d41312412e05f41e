/* For the tools that pair a system call's entry with its exit (opensnoop,
 * statsnoop, syncsnoop, mountsnoop, setuids, fsslower): the entry keeps
 * what it saw (arguments, a start time) in the pending map by thread, and
 * the exit, which has the result, takes it and reports.
 *
 * The tool declares its map with PENDING_CALLS(TYPE, ENTRIES) and defines
 * on_exit(ctx, ret); SYSCALL_EXIT(CALL) then writes the exit program of
 * CALL's own tracepoint, RAW_SYSCALL_EXIT() that of the raw tier. A raw
 * exit runs for every call, but only a thread whose entry was a traced one
 * has a pending entry: on_exit's lookup is where the others stop. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* LRU: a thread that dies in the middle of a call leaves its entry, which
 * must not fill the map. */
#define PENDING_CALLS(value_type, entries)                                                         \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);                                               \
		__uint(max_entries, entries);                                                      \
		__type(key, __u32);                                                                \
		__type(value, value_type);                                                         \
	} pending SEC(".maps")

/* At a traced call's entry: keeps *call for this thread's exit. */
static __always_inline int pending_call_keep(void *pending_map, const void *call)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(pending_map, &tid, call, BPF_ANY);
	return 0;
}

#define SYSCALL_EXIT(name)                                                                         \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                 \
	int tp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx, ctx->ret); }

#define RAW_SYSCALL_EXIT()                                                                         \
	SEC("raw_tp/sys_exit")                                                                     \
	int raw_exit(struct bpf_raw_tracepoint_args *ctx) { return on_exit(ctx, ctx->args[1]); }
