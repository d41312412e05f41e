#include "triage_report.h"

#include "output.h"

#include <cstdio>

namespace corescope::triage {

void keep_recent_kernel_log(Report& r, std::vector<LogLine> lines, double window_start_s) {
    double since = window_start_s - 60.0 * kernel_log_minutes_before;
    r.kernel_log.clear();
    r.kernel_log_older = 0;
    for (LogLine& line : lines) {
        if (line.during_window || line.seconds_since_boot >= since)
            r.kernel_log.push_back(std::move(line));
        else
            r.kernel_log_older++;
    }
}

uint64_t InterruptTimes::time_us() const {
    uint64_t sum = 0;
    for (const InterruptTime& h : handlers)
        sum += h.time_us;
    return sum;
}

double InterruptTimes::percent_of_cpu(double window_s, unsigned cpus) const {
    double capacity_us = window_s * 1e6 * (cpus ? cpus : 1);
    return capacity_us > 0 ? 100.0 * static_cast<double>(time_us()) / capacity_us : 0;
}

std::string format_value(const char* format, double value) {
    char buf[64];
    snprintf(buf, sizeof buf, format, value);
    return buf;
}

std::string as_ms(uint64_t us) {
    return format_value("%.1f ms", static_cast<double>(us) / 1000.0);
}

std::string top_names(const std::vector<NameCount>& items, size_t n) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < n; i++)
        out += (i ? ", " : "") + text_escaped(items[i].name) + " (" +
               std::to_string(items[i].count) + ")";
    return out;
}

} // namespace corescope::triage
