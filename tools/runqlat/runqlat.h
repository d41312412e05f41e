/* runqlat's histograms are the scheduler tools' shared per-task log2
 * histograms (bpf/task_hist.h), keyed by PID, TID, PID namespace or 0 for
 * all. */
#pragma once

#include "task_hist.h"
