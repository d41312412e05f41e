/* The maps triage's BPF programs fill, shared by both sides. */
#pragma once

#define TRIAGE_SLOTS	32
#define TRIAGE_COMM_LEN 16

struct triage_hist {
	__u64 slots[TRIAGE_SLOTS];
};

struct triage_waiter {
	__u64 wait_ns;
	__u64 count;
	char comm[TRIAGE_COMM_LEN];
};

struct triage_comm_key {
	char comm[TRIAGE_COMM_LEN];
};

struct triage_failed_open_key {
	char comm[TRIAGE_COMM_LEN];
	__s32 err;
	__u32 pad;
};

struct triage_oom {
	__u32 pid;
	__u32 pad;
	__u64 rss_kb;
	char comm[TRIAGE_COMM_LEN];
};

/* Time in interrupt handlers: per hard IRQ handler (keyed by struct
 * hardirq_key) and per softirq vector (a per-CPU array). */
#define TRIAGE_SOFTIRQ_VECTORS 10 /* NR_SOFTIRQS, the same since 4.1 */

struct triage_irq_time {
	__u64 count; /* handler runs */
	__u64 ns;    /* time in the handler */
};

/* A signal that ends its target (see triage.bpf.c), by signal and the
 * target's command. */
struct triage_signal_key {
	char comm[TRIAGE_COMM_LEN];
	__s32 sig;
	__u32 pad;
};

/* Dropped packets are counted by reason (enum skb_drop_reason); a kernel
 * before 5.17 gives none, and its drops count under this key. */
#define TRIAGE_DROP_REASON_UNKNOWN 0xffffffffu

/* Active TCP connects: established ones by latency, failed ones counted. */
struct triage_connects {
	struct triage_hist latency_us;
	__u64 failed;
};
