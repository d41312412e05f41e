/* The event capable's BPF program sends, shared by both sides. */
#pragma once

#define CAPABLE_COMM_LEN 16

/* What the hook knew of the check's options (the kernel's CAP_OPT_*). */
enum capable_opts_known {
	CAPABLE_OPTS_UNKNOWN = 0, /* the cap_capable tracepoint does not pass them */
	CAPABLE_OPTS_KNOWN = 1,
};

struct capable_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC, when the check returned */
	__u32 pid;   /* the task making the check (current) */
	__u32 tid;
	__u32 uid;
	__s32 cap;	  /* CAP_* number */
	__s32 ret;	  /* 0: granted, -EPERM: refused */
	__u32 opts_known; /* enum capable_opts_known */
	__u32 audit;	  /* opts known: the check is audited (no CAP_OPT_NOAUDIT) */
	__u32 insetid;	  /* opts known: CAP_OPT_INSETID */
	char comm[CAPABLE_COMM_LEN];
};
