/* The map of hardirqs, shared by both sides: per hard IRQ handler (an IRQ
 * number and the name its driver registered), how often it ran, for how
 * long in all, and with --distributed a log2 histogram of its run times. */
#pragma once

#include "irq_handler_key.h" /* struct hardirq_key */

#define HARDIRQS_SLOTS	  32 /* the last one also holds everything above 2^31 units */
#define HARDIRQS_MAX_KEYS 1024

struct hardirqs_value {
	__u64 count;		     /* handler runs */
	__u64 total_ns;		     /* time in the handler, nanoseconds */
	__u64 slots[HARDIRQS_SLOTS]; /* --distributed: run times, log2 of unit_ns units */
};
