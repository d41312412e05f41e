// The scheduler histogram tools' output (runqlat, cpudist): one log2
// histogram per key of the BPF side's task_hist map (bpf/task_hist.h),
// labelled as the classic tools do ("pid = 185 nginx", "tid = ...",
// "pidns = ..."), in JSON with the key and name as fields.
#pragma once

#include "histogram_printer.h"
#include "map_reader.h"

#include <linux/types.h>

#include "task_hist.h"

#include <vector>

namespace corescope {

using TaskHistEntry = MapEntry<uint32_t, task_hist>;

class TaskHistogramPrinter {
  public:
    // live: names live processes by their current name (the kernel side
    // keeps the one they had when first seen, which an exec may have
    // changed); decoders print what the entries say.
    TaskHistogramPrinter(const CommonOptions& options, task_hist_split split, Output& out,
                         bool live);

    // One interval's histograms, as read from the map, by key.
    void print(std::vector<TaskHistEntry> entries);

  private:
    task_hist_split split_;
    bool live_;
    HistogramPrinter histograms_;
};

// Every key's histogram summed into one, with the kernel's running sum of
// the times (bpf/task_hists.bpf.h's hist_sum_ns, kept under hist_keep_sum)
// in seconds: what an exposition shows, which has no per-process split.
struct TaskHistTotal {
    std::vector<uint64_t> slots;
    double sum_s = 0;
};
TaskHistTotal total_task_histogram(const MapHandle& hists, const __u64& hist_sum_ns);

} // namespace corescope
