#include "task_histograms.h"

#include "filters.h"
#include "text_file.h"

#include <algorithm>

namespace corescope {

namespace {

// The current name of a live process or thread, or fallback.
std::string current_comm(uint32_t id, const std::string& fallback) {
    std::string comm = process_comm(id);
    return comm.empty() ? fallback : comm;
}

bool named(task_hist_split split) {
    return split == TASK_HIST_PER_PROCESS || split == TASK_HIST_PER_THREAD;
}

std::vector<Field> label_fields(task_hist_split split) {
    std::string_view key = split == TASK_HIST_PER_PROCESS  ? "pid"
                           : split == TASK_HIST_PER_THREAD ? "tid"
                                                           : "pidns";
    return {shown_if(split != TASK_HIST_ALL, json_field(key)),
            shown_if(named(split), json_field("comm"))};
}

} // namespace

TaskHistogramPrinter::TaskHistogramPrinter(const CommonOptions& options, task_hist_split split,
                                           Output& out, bool live)
    : split_(split), live_(live),
      histograms_(options, out, label_fields(split), options.milliseconds ? "msecs" : "usecs") {}

void TaskHistogramPrinter::print(std::vector<TaskHistEntry> entries) {
    histograms_.begin_interval();
    std::sort(entries.begin(), entries.end(),
              [](const TaskHistEntry& a, const TaskHistEntry& b) { return a.key < b.key; });
    // Unsplit there is one histogram, so an idle interval says so too.
    if (entries.empty() && split_ == TASK_HIST_ALL) entries.push_back({0, {}});
    for (const TaskHistEntry& e : entries) {
        std::string comm(fixed_string(e.value.comm));
        if (live_ && named(split_)) comm = current_comm(e.key, comm);
        histograms_.print(
            Histogram::log2_slots(e.value.slots), [&](Record& r) { r.number(e.key).text(comm); },
            [&] {
                switch (split_) {
                case TASK_HIST_PER_PROCESS:
                    return "pid = " + std::to_string(e.key) + " " + text_escaped(comm);
                case TASK_HIST_PER_THREAD:
                    return "tid = " + std::to_string(e.key) + " " + text_escaped(comm);
                case TASK_HIST_PER_PIDNS:
                    return "pidns = " + std::to_string(e.key);
                default:
                    return std::string();
                }
            });
    }
}

TaskHistTotal total_task_histogram(const MapHandle& hists, const __u64& hist_sum_ns) {
    TaskHistTotal total;
    total.slots.assign(TASK_HIST_SLOTS, 0);
    for (const TaskHistEntry& e : read_map<uint32_t, task_hist>(hists, TASK_HIST_MAX_KEYS))
        for (size_t i = 0; i < TASK_HIST_SLOTS; i++)
            total.slots[i] += e.value.slots[i];
    // The programs add to it as this runs: one atomic read.
    total.sum_s = static_cast<double>(__atomic_load_n(&hist_sum_ns, __ATOMIC_RELAXED)) / 1e9;
    return total;
}

} // namespace corescope
