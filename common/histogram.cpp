#include "histogram.h"

#include "output.h"

#include <algorithm>
#include <cstdio>

namespace corescope {

Histogram Histogram::log2(std::vector<uint64_t> slots) {
    Histogram h;
    h.slots_ = std::move(slots);
    return h;
}

Histogram Histogram::linear(std::vector<uint64_t> slots) {
    Histogram h;
    h.slots_ = std::move(slots);
    h.linear_ = true;
    return h;
}

Histogram Histogram::linear_steps(std::vector<uint64_t> slots, uint64_t step) {
    Histogram h = linear(std::move(slots));
    h.step_ = step ? step : 1;
    return h;
}

uint64_t Histogram::total() const {
    uint64_t sum = 0;
    for (uint64_t c : slots_)
        sum += c;
    return sum;
}

Bucket Histogram::bucket(size_t i) const {
    if (linear_) return {i * step_, i * step_ + step_ - 1, slots_[i]};
    uint64_t low = i == 0 ? 0 : (uint64_t{1} << i);
    uint64_t high = i >= 63 ? UINT64_MAX : (uint64_t{1} << (i + 1)) - 1;
    return {low, high, slots_[i]};
}

std::vector<Bucket> Histogram::buckets() const {
    std::vector<Bucket> out;
    size_t last = slots_.size();
    while (last > 0 && slots_[last - 1] == 0)
        last--;
    size_t first = 0;
    while (step_ > 1 && first < last && slots_[first] == 0)
        first++;
    for (size_t i = first; i < last; i++)
        out.push_back(bucket(i));
    return out;
}

uint64_t Histogram::quantile(double q) const {
    uint64_t total_count = total();
    if (total_count == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    // The rank of the sample at quantile q, 1-based.
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_count) + 0.999999);
    rank = std::clamp<uint64_t>(rank, 1, total_count);
    uint64_t seen = 0;
    for (size_t i = 0; i < slots_.size(); i++) {
        seen += slots_[i];
        if (seen >= rank) return bucket(i).high;
    }
    return bucket(slots_.size() - 1).high;
}

std::string render_histogram_text(const Histogram& h, std::string_view unit) {
    constexpr int bar_width = 40;
    std::vector<Bucket> rows = h.buckets();
    std::string out;
    if (rows.empty()) return out;
    uint64_t max_count = 0;
    uint64_t max_value = 0;
    for (const Bucket& b : rows) {
        max_count = std::max(max_count, b.count);
        max_value = std::max(max_value, b.high);
    }
    // Wide values (past 32 bits) widen the range columns, as the classic tools do.
    int value_width = max_value > 0xffffffffULL ? 20 : 10;
    // The unit name sits over the "low -> high" range columns.
    char line[256];
    int indent = value_width - 5;
    snprintf(line, sizeof line, "%*s%-*s : count    distribution\n", indent, "",
             2 * value_width + 4 - indent, std::string(unit).c_str());
    out.append(line);
    for (const Bucket& b : rows) {
        int stars =
            max_count ? static_cast<int>((b.count * bar_width + max_count - 1) / max_count) : 0;
        if (b.count == 0) stars = 0;
        if (h.is_linear() && h.step() == 1)
            snprintf(line, sizeof line, "%*llu%*s : %-8llu |%-*s|\n", value_width,
                     static_cast<unsigned long long>(b.low), value_width + 4, "",
                     static_cast<unsigned long long>(b.count), bar_width,
                     std::string(stars, '*').c_str());
        else
            snprintf(line, sizeof line, "%*llu -> %-*llu : %-8llu |%-*s|\n", value_width,
                     static_cast<unsigned long long>(b.low), value_width,
                     static_cast<unsigned long long>(b.high),
                     static_cast<unsigned long long>(b.count), bar_width,
                     std::string(stars, '*').c_str());
        out.append(line);
    }
    return out;
}

std::string histogram_buckets_json(const Histogram& h) {
    std::string buckets = "[";
    for (const Bucket& b : h.buckets()) {
        if (buckets.size() > 1) buckets += ',';
        JsonObject(buckets)
            .unsigned_number("low", b.low)
            .unsigned_number("high", b.high)
            .unsigned_number("count", b.count)
            .end();
    }
    return buckets + ']';
}

std::string render_histogram_json(const Histogram& h, std::string_view unit) {
    std::string out;
    JsonObject(out)
        .string("unit", unit)
        .unsigned_number("total", h.total())
        .unsigned_number("p50", h.quantile(0.50))
        .unsigned_number("p90", h.quantile(0.90))
        .unsigned_number("p99", h.quantile(0.99))
        .raw("buckets", histogram_buckets_json(h))
        .end();
    return out;
}

} // namespace corescope
