#include "irq_times.h"

#include "clock.h"
#include "output.h"

#include <algorithm>
#include <iterator>
#include <tuple>

namespace corescope {

std::string softirq_vector_name(uint32_t vec) {
    static const char* const names[] = {"hi",       "timer",   "net_tx", "net_rx",  "block",
                                        "irq_poll", "tasklet", "sched",  "hrtimer", "rcu"};
    return vec < std::size(names) ? names[vec] : "vec" + std::to_string(vec);
}

std::string irq_time_unit(const CommonOptions& options, const IrqTimeSettings& settings) {
    if (settings.nanoseconds) return "nsecs";
    return options.milliseconds ? "msecs" : "usecs";
}

uint64_t irq_time_unit_ns(const CommonOptions& options, const IrqTimeSettings& settings) {
    if (settings.nanoseconds) return 1;
    return options.milliseconds ? 1000000 : 1000;
}

std::vector<IrqTimeRow> IrqTimeDeltas::interval(std::vector<IrqTimeRow> rows) {
    std::vector<IrqTimeRow> changed;
    for (IrqTimeRow& row : rows) {
        IrqTimeRow& before = last_[{row.id, row.name}];
        IrqTimeRow delta = row;
        // Fewer than before: the entry was made anew (never by this tool,
        // which deletes nothing); what it holds is all new.
        if (row.count >= before.count) {
            delta.count -= before.count;
            delta.total_ns -= before.total_ns;
            for (size_t i = 0; i < delta.slots.size() && i < before.slots.size(); i++)
                delta.slots[i] -= std::min(delta.slots[i], before.slots[i]);
        }
        before = std::move(row);
        if (delta.count) changed.push_back(std::move(delta));
    }
    return changed;
}

namespace {

RecordLayout row_layout(const CommonOptions& options, const IrqTimeSettings& settings,
                        const IrqKind& kind) {
    // The layout keeps views: the headers are literals.
    std::string_view header = settings.counts        ? "TOTAL_count"
                              : settings.nanoseconds ? "TOTAL_nsecs"
                              : options.milliseconds ? "TOTAL_msecs"
                                                     : "TOTAL_usecs";
    return {0,
            {json_field(kind.id_key), column("name", kind.column, kind.width), json_field("count"),
             json_field("total_ns"), text_column(header, 11, Align::right)}};
}

RecordLayout table_layout() {
    return {0,
            {json_field("time"), json_field("interval_s"), json_field("count"),
             json_field("total_ns")}};
}

std::vector<Field> label_fields(const IrqKind& kind) {
    return {json_field(kind.id_key), json_field("name"), json_field("count"),
            json_field("total_ns")};
}

} // namespace

IrqTimePrinter::IrqTimePrinter(const CommonOptions& options, const IrqTimeSettings& settings,
                               IrqKind kind, Output& out)
    : options_(options), settings_(settings), kind_(kind),
      unit_ns_(irq_time_unit_ns(options, settings)),
      table_(options, out, row_layout(options, settings, kind), table_layout()),
      histograms_(options, out, label_fields(kind), irq_time_unit(options, settings)),
      last_s_(monotonic_seconds()) {}

void IrqTimePrinter::print(std::vector<IrqTimeRow> rows) {
    std::sort(rows.begin(), rows.end(), [&](const IrqTimeRow& a, const IrqTimeRow& b) {
        uint64_t ka = settings_.counts ? a.count : a.total_ns;
        uint64_t kb = settings_.counts ? b.count : b.total_ns;
        if (ka != kb) return ka > kb;
        return std::tie(a.name, a.id) < std::tie(b.name, b.id);
    });
    if (settings_.distributed) {
        histograms_.begin_interval();
        for (const IrqTimeRow& row : rows)
            histograms_.print(
                Histogram::log2(row.slots),
                [&](Record& r) {
                    r.number(row.id).text(row.name).number(row.count).number(row.total_ns);
                },
                [&] { return std::string(kind_.label) + " = " + text_escaped(row.name); });
        return;
    }
    double now = monotonic_seconds();
    double interval = now - last_s_;
    last_s_ = now;
    uint64_t count = 0, total_ns = 0;
    table_.begin();
    for (const IrqTimeRow& row : rows) {
        count += row.count;
        total_ns += row.total_ns;
        table_.row()
            .number(row.id)
            .text(row.name)
            .number(row.count)
            .number(row.total_ns)
            .number(settings_.counts ? row.count : row.total_ns / unit_ns_)
            .end();
    }
    table_.end(
        [&](Record& t) { t.text(iso_time_now()).real(interval).number(count).number(total_ns); });
}

} // namespace corescope
