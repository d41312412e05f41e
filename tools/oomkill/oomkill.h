/* The event oomkill's BPF program sends, shared by both sides. */
#pragma once

#define OOMKILL_COMM_LEN 16

/* enum oom_constraint, plus "not known" for the tracepoint tiers. */
#define OOMKILL_CONSTRAINT_NONE		 0 /* global: the whole machine is out of memory */
#define OOMKILL_CONSTRAINT_CPUSET	 1
#define OOMKILL_CONSTRAINT_MEMORY_POLICY 2
#define OOMKILL_CONSTRAINT_MEMCG	 3
#define OOMKILL_CONSTRAINT_UNKNOWN	 0xff

/* Which parts of the event are filled in. */
#define OOMKILL_HAVE_MEMORY	 0x1 /* total_vm_kb ... pgtables_kb, oom_score_adj */
#define OOMKILL_HAVE_VICTIM_COMM 0x2
#define OOMKILL_HAVE_VICTIM_TGID 0x4 /* victim_pid is the process, not only the thread */
#define OOMKILL_HAVE_UID	 0x8
#define OOMKILL_CONSTRAINT_INFERRED                                                                \
	0x10 /* from the memory cgroups' usage, not the kernel's decision */

struct oomkill_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	/* The task whose allocation made the kernel kill (current). */
	__u32 trigger_pid;
	__u32 trigger_tid;
	/* The task killed. */
	__u32 victim_pid;
	__u32 victim_tid;
	__u32 victim_uid;
	__s32 oom_score_adj;
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	/* The memory the OOM domain may use (the memory cgroup's limit, or RAM
	 * and swap for a global OOM), 0 when not known. */
	__u64 allowed_kb;
	__u64 memcg_id; /* the cgroup ID of the memory cgroup at its limit, 0 if none */
	__u32 constraint;
	__u32 flags;
	char trigger_comm[OOMKILL_COMM_LEN];
	char victim_comm[OOMKILL_COMM_LEN];
};

/* corescope export's counts (counts_only): OOM kills by constraint, indexed
 * by OOMKILL_CONSTRAINT_NONE ... _MEMCG, and OOMKILL_COUNT_UNKNOWN for the
 * tracefs tier, which cannot tell. */
#define OOMKILL_COUNT_UNKNOWN 4
#define OOMKILL_COUNT_SLOTS   5

struct oomkill_counts {
	__u64 kills[OOMKILL_COUNT_SLOTS];
};
