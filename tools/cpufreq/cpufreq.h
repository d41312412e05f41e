/* cpufreq: samples counted by process and by the frequency of the CPU they
 * were taken on, shared by both sides. */
#pragma once

#define CPUFREQ_MAX_CPUS 4096 /* a power of two: the index is masked */
#define CPUFREQ_MAX_KEYS 10240
#define CPUFREQ_COMM_LEN 16

struct cpufreq_key {
	__u32 pid; /* the sampled process (thread group); 0 without -P */
	__u32 mhz; /* its CPU's frequency then, in MHz (0: not known) */
};

struct cpufreq_value {
	__u64 samples;
	char comm[CPUFREQ_COMM_LEN]; /* the process's name (its main thread's) */
};
