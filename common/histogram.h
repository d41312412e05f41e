// Histograms as plain data, filled from BPF maps and rendered as the classic
// "usecs : count distribution" text or as JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

struct Bucket {
    uint64_t low;  // inclusive
    uint64_t high; // inclusive
    uint64_t count;
};

class Histogram {
  public:
    // Log2: slot i counts values v with floor(log2(v)) == i (slot 0 also
    // holds 0), the layout bpf/log2.bpf.h fills.
    static Histogram log2(std::vector<uint64_t> slots);
    // Log2, from a map value's slot array (bpf/log2.bpf.h).
    template <class Count, size_t N>
    static Histogram log2_slots(const Count (&slots)[N]) {
        return log2(std::vector<uint64_t>(slots, slots + N));
    }
    // Linear, one value a slot: slot i counts the value i (runqlen's queue
    // lengths); printed one value a row.
    static Histogram linear(std::vector<uint64_t> slots);
    // Linear, step values a slot: slot i counts values from i * step to
    // (i + 1) * step - 1 (cpufreq's MHz); printed a range a row, from the
    // first non-empty slot (not from 0) to the last.
    static Histogram linear_steps(std::vector<uint64_t> slots, uint64_t step);
    bool is_linear() const { return linear_; }
    uint64_t step() const { return step_; }
    const std::vector<uint64_t>& slots() const { return slots_; }
    uint64_t total() const;
    bool empty() const { return total() == 0; }
    // The buckets from 0 to the last non-zero one, as the classic tools
    // print them.
    std::vector<Bucket> buckets() const;
    // Estimated value at quantile q in [0, 1]: the upper bound of the bucket
    // that holds it (a conservative estimate). 0 when empty.
    uint64_t quantile(double q) const;

  private:
    Bucket bucket(size_t i) const;
    std::vector<uint64_t> slots_;
    bool linear_ = false;
    uint64_t step_ = 1;
};

// The classic layout:
//      usecs               : count    distribution
//          0 -> 1          : 3        |****                                    |
// and for a linear histogram one value a row:
//      runqlen             : count    distribution
//          0               : 3        |****                                    |
std::string render_histogram_text(const Histogram& h, std::string_view unit);
// {"unit":"usecs","total":N,"p50":..,"p99":..,"buckets":[{"low":0,"high":1,"count":3},...]}
std::string render_histogram_json(const Histogram& h, std::string_view unit);
// The buckets alone: [{"low":0,"high":1,"count":3},...]
std::string histogram_buckets_json(const Histogram& h);

} // namespace corescope
