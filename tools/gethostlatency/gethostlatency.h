/* The event gethostlatency's BPF program sends, shared by both sides. */
#pragma once

#define GETHOSTLATENCY_HOST_MAX 256
#define GETHOSTLATENCY_COMM_LEN 16

enum gethostlatency_func {
	GETHOSTLATENCY_GETADDRINFO = 0,
	GETHOSTLATENCY_GETHOSTBYNAME = 1,
	GETHOSTLATENCY_GETHOSTBYNAME2 = 2,
};

struct gethostlatency_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at return */
	__u64 lat_ns; /* call to return */
	__s64 ret;    /* getaddrinfo: 0 or EAI_*; gethostbyname*: the hostent pointer */
	__u32 pid;
	__u32 tid;
	__u32 func; /* enum gethostlatency_func */
	__u32 pad;
	char comm[GETHOSTLATENCY_COMM_LEN];
	/* Only the used part of host (with its NUL) is sent. */
	char host[GETHOSTLATENCY_HOST_MAX];
};
