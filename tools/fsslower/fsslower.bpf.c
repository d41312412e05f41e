// SPDX-License-Identifier: GPL-2.0
/* fsslower: reads, writes, opens and fsyncs of regular files that take
 * longer than a threshold, timed at the system call (bpf/fs_calls.bpf.h:
 * the calls, the file-system type filter, both tiers); the slow ones are
 * sent with the file's name from its dentry. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "fs_calls.bpf.h"
#include "fsslower/fsslower.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_lat_ns = 10000000;

EVENT_SCRATCH(struct fsslower_event, scratch);

static __always_inline bool fs_call_timed(__u64 lat_ns) { return lat_ns >= min_lat_ns; }

static __always_inline void fs_call_done(void *ctx, const struct fs_call *call, struct file *file,
					 long ret, __u64 now_ns, __u64 lat_ns)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct fsslower_event *e;
	struct dentry *dentry;
	long len;

	e = scratch_get(&scratch);
	if (!e)
		return;
	fs_file_type(file, e->fs_type);
	e->ts_ns = now_ns;
	e->lat_ns = lat_ns;
	e->ret = ret;
	e->offset = call->offset;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->op = call->op;
	e->syscall = call->syscall;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	dentry = BPF_CORE_READ(file, f_path.dentry);
	len = bpf_probe_read_kernel_str(e->name, sizeof(e->name),
					BPF_CORE_READ(dentry, d_name.name));
	if (len <= 0) {
		e->name[0] = '\0';
		len = 1;
	}
	if (len > FSSLOWER_NAME_MAX)
		len = FSSLOWER_NAME_MAX;
	events_output(ctx, e, offsetof(struct fsslower_event, name) + len);
}

FS_CALLS_PROGRAMS()
