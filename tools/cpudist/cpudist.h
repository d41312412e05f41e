/* cpudist's histograms are the scheduler tools' shared per-task log2
 * histograms (bpf/task_hist.h), keyed by PID, TID or 0 for all; each sample
 * is one stretch on a CPU (or with -O off it). */
#pragma once

#include "task_hist.h"
