// SPDX-License-Identifier: GPL-2.0
/* gethostlatency: how long getaddrinfo(), gethostbyname() and
 * gethostbyname2() take, through uprobes on the C library. Entry saves the
 * time and the name's address per thread; return reads the name (still the
 * caller's memory) and sends one event. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "gethostlatency/gethostlatency.h"

char LICENSE[] SEC("license") = "GPL";

struct pending_lookup {
	__u64 start_ns;
	const char *host;
	__u32 func;
};

/* LRU: a thread that dies in the middle of a call leaves its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending_lookup);
} pending SEC(".maps");

EVENT_SCRATCH(struct gethostlatency_event, scratch);

static __always_inline int on_entry(const char *host, __u32 func)
{
	struct pending_lookup lookup = { .host = host, .func = func };
	__u32 tid;

	if (current_filtered_out())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	lookup.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&pending, &tid, &lookup, BPF_ANY);
	return 0;
}

/* The attach targets (LIBC:function) come from the loader. */

SEC("uprobe")
int BPF_KPROBE(getaddrinfo_entry, const char *node)
{
	return on_entry(node, GETHOSTLATENCY_GETADDRINFO);
}

SEC("uprobe")
int BPF_KPROBE(gethostbyname_entry, const char *name)
{
	return on_entry(name, GETHOSTLATENCY_GETHOSTBYNAME);
}

SEC("uprobe")
int BPF_KPROBE(gethostbyname2_entry, const char *name)
{
	return on_entry(name, GETHOSTLATENCY_GETHOSTBYNAME2);
}

/* One return program for all three functions. */
SEC("uretprobe")
int BPF_KRETPROBE(lookup_return, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct gethostlatency_event *e;
	struct pending_lookup *lookup;
	long len = 0;

	lookup = bpf_map_lookup_elem(&pending, &tid);
	if (!lookup)
		return 0;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	e->ts_ns = bpf_ktime_get_ns();
	e->lat_ns = e->ts_ns - lookup->start_ns;
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->func = lookup->func;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* getaddrinfo(NULL, "http", ...) looks up a service only. */
	if (lookup->host)
		len = bpf_probe_read_user_str(e->host, sizeof(e->host), lookup->host);
	if (len <= 0) {
		e->host[0] = '\0';
		len = 1;
	}
	if (len > GETHOSTLATENCY_HOST_MAX)
		len = GETHOSTLATENCY_HOST_MAX;
	events_output(ctx, e, offsetof(struct gethostlatency_event, host) + len);
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}
