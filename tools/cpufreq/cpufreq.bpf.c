// SPDX-License-Identifier: GPL-2.0
/* cpufreq: the frequency CPUs run at, as the tasks on them see it. The
 * power:cpu_frequency tracepoint (a cpufreq driver's every change) keeps
 * each CPU's frequency in freq_mhz, which the loader first fills from
 * sysfs (scaling_cur_freq); a CPU-clock perf event on every CPU (99 times a
 * second by default) counts a sample for the task it interrupts, keyed by
 * its process and its CPU's frequency then. The idle task is not counted. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "filters.bpf.h"
#include "maps.bpf.h"
#include "cpufreq/cpufreq.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_process = false; /* -P: the process in the key */

/* Each CPU's frequency, in MHz; set by the loader, then by the tracepoint. */
__u32 freq_mhz[CPUFREQ_MAX_CPUS] = {};
/* Frequency changes seen, and samples the table had no room for. */
__u64 freq_changes = 0;
__u64 samples_dropped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPUFREQ_MAX_KEYS);
	__type(key, struct cpufreq_key);
	__type(value, struct cpufreq_value);
} counts SEC(".maps");

static __always_inline int set_frequency(__u32 cpu, __u32 khz)
{
	if (cpu >= CPUFREQ_MAX_CPUS)
		return 0;
	/* The compiler drops the mask after the check; the verifier needs it. */
	barrier_var(cpu);
	freq_mhz[cpu & (CPUFREQ_MAX_CPUS - 1)] = khz / 1000;
	__sync_fetch_and_add(&freq_changes, 1);
	return 0;
}

/* cpu_frequency(frequency in kHz, cpu_id), in three tiers. */

SEC("tp_btf/cpu_frequency")
int BPF_PROG(btf_frequency, unsigned int state, unsigned int cpu_id)
{
	return set_frequency(cpu_id, state);
}

SEC("raw_tp/cpu_frequency")
int BPF_PROG(raw_frequency, unsigned int state, unsigned int cpu_id)
{
	return set_frequency(cpu_id, state);
}

SEC("tracepoint/power/cpu_frequency")
int tp_frequency(struct trace_event_raw_cpu *args)
{
	return set_frequency(args->cpu_id, args->state);
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	static const struct cpufreq_value zero = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct cpufreq_key key = {};
	struct cpufreq_value *value;
	struct task_struct *task;
	__u32 cpu;

	if (!pid_tgid) /* the idle task */
		return 0;
	if (current_filtered_out())
		return 0;
	cpu = bpf_get_smp_processor_id();
	if (cpu >= CPUFREQ_MAX_CPUS)
		return 0;
	barrier_var(cpu);
	key.pid = per_process ? pid_tgid >> 32 : 0;
	key.mhz = freq_mhz[cpu & (CPUFREQ_MAX_CPUS - 1)];
	value = map_lookup_or_insert(&counts, &key, &zero);
	if (!value) {
		__sync_fetch_and_add(&samples_dropped, 1);
		return 0;
	}
	if (per_process && !value->comm[0]) {
		task = (struct task_struct *)bpf_get_current_task();
		BPF_CORE_READ_STR_INTO(&value->comm, task, group_leader, comm);
	}
	__sync_fetch_and_add(&value->samples, 1);
	return 0;
}
