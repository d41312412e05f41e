// Kernel side of corescope-probe: one tiny program per attach type.
//
// The loader loads each program on its own (every other program has
// autoload off), so one attach type the kernel refuses cannot stop the
// others from being tried. Every program counts the events of the loader's
// own process only, so the count proves the probe really fired.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 target_tgid = 0;

__u64 hits = 0;

struct probe_event {
	__u32 tgid;
	__u32 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline int count(void)
{
	if (is_target())
		__sync_fetch_and_add(&hits, 1);
	return 0;
}

// kprobe/kretprobe/fentry/fexit have no target in their section name: the
// loader picks the function at run time (bpf_program__attach_kprobe and
// bpf_program__set_attach_target), so one binary can probe any function.
SEC("kprobe")
int probe_kprobe(struct pt_regs *ctx) { return count(); }

SEC("kretprobe")
int probe_kretprobe(struct pt_regs *ctx) { return count(); }

SEC("fentry")
int probe_fentry(void *ctx) { return count(); }

SEC("fexit")
int probe_fexit(void *ctx) { return count(); }

SEC("tracepoint/syscalls/sys_enter_openat")
int probe_tracepoint(void *ctx) { return count(); }

SEC("raw_tp/sys_enter")
int probe_raw_tp(void *ctx) { return count(); }

SEC("tp_btf/sys_enter")
int probe_tp_btf(void *ctx) { return count(); }

SEC("perf_event")
int probe_perf_event(void *ctx) { return count(); }

// Output paths ride on raw_tp, the attach type with the fewest
// requirements (no tracefs, no BTF), so that they test only the buffer.
SEC("raw_tp/sys_enter")
int probe_ringbuf(void *ctx)
{
	struct probe_event *e;

	if (!is_target())
		return 0;
	e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);
	if (!e)
		return 0;
	e->tgid = target_tgid;
	e->kind = 1;
	bpf_ringbuf_submit(e, 0);
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int probe_perfbuf(void *ctx)
{
	struct probe_event e = { .tgid = target_tgid, .kind = 2 };

	if (!is_target())
		return 0;
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	__sync_fetch_and_add(&hits, 1);
	return 0;
}
