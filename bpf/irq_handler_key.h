/* A hard IRQ handler as the tools that time them key it (hardirqs,
 * triage), shared by both sides: its IRQ number and the name its driver
 * registered. */
#pragma once

#define HARDIRQ_NAME_LEN 32 /* the handler's name, cut to fit, NUL-terminated */

struct hardirq_key {
	__s32 irq;
	char name[HARDIRQ_NAME_LEN];
};
