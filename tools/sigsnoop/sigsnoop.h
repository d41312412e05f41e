/* The event sigsnoop's BPF program sends, shared by both sides. */
#pragma once

#define SIGSNOOP_COMM_LEN 16

/* Where the event comes from: a signal the kernel generated
 * (signal:signal_generate), or a kill-family system call (-k, killsnoop). */
enum sigsnoop_source {
	SIGSNOOP_GENERATE = 0,
	SIGSNOOP_KILL = 1,
	SIGSNOOP_TKILL = 2,
	SIGSNOOP_TGKILL = 3,
	SIGSNOOP_SOURCES = 4,
};

/* signal_generate's result (the kernel's enum trace_signal_result). */
enum sigsnoop_result {
	SIGSNOOP_DELIVERED = 0,
	SIGSNOOP_IGNORED = 1,
	SIGSNOOP_ALREADY_PENDING = 2,
	SIGSNOOP_OVERFLOW = 3,
	SIGSNOOP_LOSE_INFO = 4,
	SIGSNOOP_RESULTS = 5,
};

struct sigsnoop_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC: at generation, or at the call's return */
	__u32 pid;   /* the sender: the task running when the signal was made */
	__u32 tid;
	__u32 uid;
	__s32 sig;
	/* generate: the target task's ID (a thread's ID for a signal to one
	 * thread, the process's for one to the process); kill: its pid argument
	 * (0, -1 and -PGID reach groups); tkill, tgkill: the thread's ID */
	__s32 target_pid;
	/* generate: enum sigsnoop_result; kill family: the return, 0 or -errno */
	__s32 result;
	__s32 code;   /* generate: si_code (SI_USER 0, SI_KERNEL 0x80, SI_TKILL -6,
		       * fault codes above 0); else 0 */
	__u32 source; /* enum sigsnoop_source */
	__u32 group;  /* generate: sent to the whole process, not one thread */
	__u32 pad;
	char comm[SIGSNOOP_COMM_LEN];
	char target_comm[SIGSNOOP_COMM_LEN]; /* generate only; empty otherwise */
};
