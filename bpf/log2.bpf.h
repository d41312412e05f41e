/* Log2 histograms in BPF maps. Slot i counts values v with
 * floor(log2(v)) == i, and slot 0 also holds 0: the layout that
 * Histogram::log2 (common/histogram.h) reads. */
#pragma once

#include "vmlinux.h"

/* floor(log2(v)) for v > 0, and 0 for v == 0, by halving the search range:
 * six compares and no loop for the verifier to bound. */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 bits = 0;

	if (v >> 32) {
		v >>= 32;
		bits += 32;
	}
	if (v >> 16) {
		v >>= 16;
		bits += 16;
	}
	if (v >> 8) {
		v >>= 8;
		bits += 8;
	}
	if (v >> 4) {
		v >>= 4;
		bits += 4;
	}
	if (v >> 2) {
		v >>= 2;
		bits += 2;
	}
	if (v >> 1)
		bits += 1;
	return bits;
}

/* Adds one to the slot of value in slots[nslots]; values past the last slot
 * land in it. The add is atomic: the same histogram is updated from every
 * CPU, in interrupt context too. */
static __always_inline void log2_hist_add(__u64 *slots, __u32 nslots, __u64 value)
{
	__u32 slot = log2_u64(value);

	if (slot >= nslots)
		slot = nslots - 1;
	__sync_fetch_and_add(&slots[slot], 1);
}
