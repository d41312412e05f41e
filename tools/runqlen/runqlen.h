/* The map of runqlen, shared by both sides: per CPU, how many samples saw
 * each run-queue length there (a linear histogram). */
#pragma once

#define RUNQLEN_SLOTS 64 /* lengths 0..62 each; the last slot holds 63 and above */

/* The value of the CPU's entry (the key is the CPU number). */
struct runqlen_value {
	__u64 slots[RUNQLEN_SLOTS]; /* samples by tasks waiting in the queue */
};
