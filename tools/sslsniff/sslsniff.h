/* The event sslsniff's BPF program sends for a TLS read or write, shared by
 * both sides. */
#pragma once

#define SSLSNIFF_COMM_LEN 16
#define SSLSNIFF_DATA_MAX 16384 /* bytes of one call captured at most (a power of two) */

enum sslsniff_func {
	SSLSNIFF_READ = 0,  /* SSL_read, SSL_read_ex: plaintext received */
	SSLSNIFF_WRITE = 1, /* SSL_write, SSL_write_ex: plaintext sent */
};

struct sslsniff_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC, at the call's return */
	__u64 lat_ns; /* call to return */
	__u64 len;    /* plaintext bytes the call read or wrote */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 func;	/* enum sslsniff_func */
	__u32 captured; /* bytes of data: at most the capture limit and len */
	__u32 ex;	/* 1: the _ex variant (SSL_read_ex, SSL_write_ex) */
	char comm[SSLSNIFF_COMM_LEN];
	/* Only captured bytes are sent. */
	char data[SSLSNIFF_DATA_MAX];
};
