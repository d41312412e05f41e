// SPDX-License-Identifier: GPL-2.0
/* sslsniff: the plaintext of TLS reads and writes in OpenSSL, through
 * uprobes on SSL_read, SSL_write, SSL_read_ex and SSL_write_ex in libssl.
 * Entry saves the time, the buffer and (for the _ex calls) where the byte
 * count goes, per thread; return reads how many bytes moved and copies them
 * from the caller's buffer, up to the capture limit: for a read, what was
 * just received; for a write, what was just sent (the buffer is the
 * caller's, untouched by the call, and its pages are in memory since the
 * call read them). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.bpf.h"
#include "filters.bpf.h"
#include "sslsniff/sslsniff.h"

char LICENSE[] SEC("license") = "GPL";

/* Bytes captured of one call at most (<= SSLSNIFF_DATA_MAX). */
const volatile __u32 capture_limit = 8192;

struct pending_io {
	__u64 start_ns;
	const void *buf;
	const __u64 *count; /* _ex: the size_t the call stores its byte count in */
	__u32 func;
	__u32 ex;
};

/* LRU: a thread that dies in the middle of a call leaves its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending_io);
} pending SEC(".maps");

EVENT_SCRATCH(struct sslsniff_event, scratch);

static __always_inline int on_entry(const void *buf, const __u64 *count, __u32 func)
{
	struct pending_io io = { .buf = buf, .count = count, .func = func, .ex = count != 0 };
	__u32 tid;

	if (current_filtered_out())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	io.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&pending, &tid, &io, BPF_ANY);
	return 0;
}

/* The attach targets (LIBSSL:0xOFFSET) come from the loader. */

SEC("uprobe")
int BPF_KPROBE(ssl_read_entry, void *ssl, void *buf, int num)
{
	return on_entry(buf, 0, SSLSNIFF_READ);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
	return on_entry(buf, 0, SSLSNIFF_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_entry, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return on_entry(buf, readbytes, SSLSNIFF_READ);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_entry, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	return on_entry(buf, written, SSLSNIFF_WRITE);
}

/* One return program for the four functions. */
SEC("uretprobe")
int BPF_KRETPROBE(ssl_return, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct sslsniff_event *e;
	struct pending_io *io;
	__u64 len = 0, size;

	io = bpf_map_lookup_elem(&pending, &tid);
	if (!io)
		return 0;
	/* Nothing moved: an error, or a non-blocking call that must be retried. */
	if (io->count) {
		if ((int)ret != 1 || bpf_probe_read_user(&len, sizeof(len), io->count))
			goto done;
	} else {
		if ((int)ret <= 0)
			goto done;
		len = (int)ret;
	}
	if (len == 0)
		goto done;
	e = scratch_get(&scratch);
	if (!e)
		goto done;
	e->ts_ns = bpf_ktime_get_ns();
	e->lat_ns = e->ts_ns - io->start_ns;
	e->len = len;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->func = io->func;
	e->ex = io->ex;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	size = len < capture_limit ? len : capture_limit;
	barrier_var(size);
	if (size > SSLSNIFF_DATA_MAX)
		size = SSLSNIFF_DATA_MAX;
	if (size == 0 || bpf_probe_read_user(e->data, size, io->buf))
		size = 0;
	e->captured = size;
	events_output_prefix(ctx, e, offsetof(struct sslsniff_event, data) + size, sizeof(*e));
done:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}
