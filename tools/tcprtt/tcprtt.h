/* The histogram map of tcprtt, shared by both sides: one log2 histogram of
 * smoothed RTTs per key. The key holds only what the run splits by (-b:
 * the local address, -B: the remote one); the rest stays zero, so a run
 * that splits by nothing has one histogram. Addresses: 16 bytes, IPv4 in
 * the first 4 (network order). */
#pragma once

/* Log2 slots: the last one also holds everything above 2^26 units. */
#define TCPRTT_SLOTS	27
#define TCPRTT_MAX_KEYS 4096

struct tcprtt_key {
	__u16 family; /* AF_INET or AF_INET6 when split by an address; else 0 */
	__u16 pad[3];
	__u8 laddr[16]; /* -b */
	__u8 raddr[16]; /* -B */
};

struct tcprtt_hist {
	__u64 sum_us;		   /* the samples' sum in microseconds, whatever the unit (-e) */
	__u64 count;		   /* samples */
	__u64 slots[TCPRTT_SLOTS]; /* in usecs, or msecs with -m */
};
