// Time spent in interrupt handlers (hardirqs, softirqs), per interval: a
// table of totals (time, or -C counts) or, with --distributed, one log2
// histogram per handler. The BPF maps hold counts since the start;
// IrqTimeDeltas turns each read into the interval's share, so nothing is
// deleted while the kernel adds to it.
#pragma once

#include "exposition.h"
#include "histogram_printer.h"
#include "table_printer.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace corescope {

// The flags both tools share with libbpf-tools' hardirqs and softirqs.
struct IrqTimeSettings {
    bool distributed = false; // --distributed: histograms instead of totals
    bool counts = false;      // -C: text shows counts instead of time
    bool nanoseconds = false; // -N: times in nanoseconds
};

// What a handler is called in the output: hardirqs {"irq", "HARDIRQ", 26,
// "hardirq"}, softirqs {"vec", "SOFTIRQ", 16, "softirq"}.
struct IrqKind {
    std::string_view id_key; // JSON key of the number (IRQ, vector)
    std::string_view column; // text header of the name column
    int width;               // ... and its width, as the classic tool has it
    std::string_view label;  // histograms' text label: "hardirq = NAME"
};

// One handler's figures over an interval.
struct IrqTimeRow {
    int64_t id = 0;
    std::string name;
    uint64_t count = 0;
    uint64_t total_ns = 0;
    std::vector<uint64_t> slots; // log2 histogram of run times (--distributed)
};

// A softirq vector's name (the kernel's enum in include/linux/interrupt.h),
// lower case: "net_rx"; "vec12" for one this list does not know.
std::string softirq_vector_name(uint32_t vec);

// The histograms' unit, and the nanoseconds it stands for (the BPF side's unit_ns).
std::string irq_time_unit(const CommonOptions& options, const IrqTimeSettings& settings);
uint64_t irq_time_unit_ns(const CommonOptions& options, const IrqTimeSettings& settings);

// The cumulative figures the map holds, turned into each interval's.
class IrqTimeDeltas {
  public:
    // rows: every handler's figures since the start; returns those that
    // changed since the last call, with what they gained.
    std::vector<IrqTimeRow> interval(std::vector<IrqTimeRow> rows);

  private:
    std::map<std::pair<int64_t, std::string>, IrqTimeRow> last_;
};

// -o prometheus (hardirqs, softirqs): each handler's runs and time since
// the start as counters, and with --distributed (histograms in the kernel)
// its run times as a histogram in seconds whose _sum is that time.
struct IrqMetrics {
    std::string runs;     // corescope_hardirqs (the writer adds _total)
    std::string seconds;  // corescope_hardirq_seconds
    std::string duration; // corescope_hardirq_duration_seconds
    std::string what;     // "hard IRQ handler", in the help
    std::string tool;     // "hardirqs", in the help
};
// rows: every handler's figures since the start (slots in units of
// unit_ns); labels_of(row): the labels of its series.
template <class LabelsOf>
void add_irq_metrics(Exposition& out, const IrqMetrics& m, const std::vector<IrqTimeRow>& rows,
                     bool distributed, uint64_t unit_ns, LabelsOf&& labels_of) {
    MetricFamily& runs = out.family(m.runs, MetricType::counter,
                                    "Runs of each " + m.what + ", from " + m.tool + ".");
    MetricFamily& seconds =
        out.family(m.seconds, MetricType::counter,
                   "Time spent in each " + m.what + ", from " + m.tool + ".", "seconds");
    for (const IrqTimeRow& row : rows) {
        Labels labels = labels_of(row);
        runs.add(labels, static_cast<double>(row.count));
        seconds.add(labels, static_cast<double>(row.total_ns) / 1e9);
        if (distributed)
            out.family(m.duration, MetricType::histogram,
                       "Run time of each " + m.what + ", from " + m.tool + ".", "seconds")
                .add(labels, log2_histogram(row.slots, static_cast<double>(unit_ns) / 1e9,
                                            static_cast<double>(row.total_ns) / 1e9));
    }
}

class IrqTimePrinter {
  public:
    IrqTimePrinter(const CommonOptions& options, const IrqTimeSettings& settings, IrqKind kind,
                   Output& out);
    // One interval: the busiest first (by time, or by count with -C).
    void print(std::vector<IrqTimeRow> rows);

  private:
    const CommonOptions& options_;
    IrqTimeSettings settings_;
    IrqKind kind_;
    uint64_t unit_ns_;
    TablePrinter table_;
    HistogramPrinter histograms_;
    double last_s_;
};

} // namespace corescope
