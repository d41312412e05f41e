/* funccount: calls counted per probe. The map is a per-CPU array indexed by
 * the probe's number, which each attachment carries as its BPF cookie. */
#pragma once

/* At most this many probes in one run (each is a perf event and a link). */
#define FUNCCOUNT_MAX_PROBES 1000
