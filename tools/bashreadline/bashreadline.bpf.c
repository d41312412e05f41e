// SPDX-License-Identifier: GPL-2.0
/* bashreadline: every line bash reads from its user, through a uretprobe on
 * readline() (in the bash program, or in libreadline for a bash linked to
 * it): the returned string, still the caller's memory, is read and sent. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "bashreadline/bashreadline.h"

char LICENSE[] SEC("license") = "GPL";

EVENT_SCRATCH(struct bashreadline_event, scratch);

/* The attach target (FILE:0xOFFSET of readline) comes from the loader. */
SEC("uretprobe")
int BPF_KRETPROBE(readline_return, const char *line)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bashreadline_event *e;
	long len;

	/* NULL: end of input (Ctrl-D), no line. */
	if (!line)
		return 0;
	if (current_filtered_out())
		return 0;
	e = scratch_get(&scratch);
	if (!e)
		return 0;
	len = bpf_probe_read_user_str(e->line, sizeof(e->line), line);
	if (len <= 0)
		return 0;
	if (len > BASHREADLINE_LINE_MAX)
		len = BASHREADLINE_LINE_MAX;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->len = len - 1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	events_output_prefix(ctx, e, offsetof(struct bashreadline_event, line) + len, sizeof(*e));
	return 0;
}
