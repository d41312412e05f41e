// A collector of `corescope export` (frontend/export.cpp): one tool's BPF
// programs, loaded and attached once with the tool's own sequence
// (run.h's load_tool), whose maps are read at each scrape into an
// Exposition, never on a timer and never cleared: the kernel's counts are
// cumulative, so no event is lost between scrapes and two scrapers see
// consistent values. Each tool that exports defines
// `std::unique_ptr<ExportCollector> tools::export_NAME(const CommonOptions&)`
// in its own .cpp, next to its printer.
#pragma once

#include "exposition.h"
#include "map_reader.h"
#include "run.h"

#include <algorithm>
#include <bpf/libbpf.h>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace corescope {

class ExportCollector {
  public:
    virtual ~ExportCollector() = default;
    // Reads the maps into out; throws what the reading throws.
    virtual void collect(Exposition& out) = 0;
    // The loaded BPF programs (the attach plan's choices), for the
    // exporter's health: each one's run count and time.
    virtual std::vector<std::pair<std::string, int>> programs() const = 0;
};

// A loaded object's programs: name and file descriptor, those loaded.
inline std::vector<std::pair<std::string, int>> loaded_programs(const bpf_object* obj) {
    std::vector<std::pair<std::string, int>> out;
    bpf_program* prog = nullptr;
    while ((prog = bpf_object__next_program(obj, prog)) != nullptr)
        if (bpf_program__fd(prog) >= 0)
            out.emplace_back(bpf_program__name(prog), bpf_program__fd(prog));
    return out;
}

// Log2 slots in microseconds (the tools' default unit), in seconds.
inline constexpr double export_us = 1e-6;

template <class Skeleton, class Collect>
class LoadedCollector final : public ExportCollector {
  public:
    LoadedCollector(LoadedTool<Skeleton> tool, Collect collect)
        : tool_(std::move(tool)), links_(tool_.plan.attach(tool_.skel->obj)),
          collect_(std::move(collect)) {}
    void collect(Exposition& out) override { collect_(*tool_.skel, out); }
    std::vector<std::pair<std::string, int>> programs() const override {
        return loaded_programs(tool_.skel->obj);
    }

  private:
    LoadedTool<Skeleton> tool_;
    Links links_; // declared after tool_: detached before the skeleton goes
    Collect collect_;
};

// Loads spec's skeleton and attaches it; collect(Skeleton&, Exposition&)
// reads it at each scrape. Null under --dry-run (the plan printed).
template <class Skeleton, class Collect>
std::unique_ptr<ExportCollector> export_collector(const ToolSpec<Skeleton>& spec, Collect collect) {
    std::optional<LoadedTool<Skeleton>> tool = load_tool(spec);
    if (!tool) return nullptr;
    return std::make_unique<LoadedCollector<Skeleton, Collect>>(std::move(*tool),
                                                                std::move(collect));
}

// -o prometheus on a tool with a collector: its values as one exposition
// (text format 0.0.4) on stdout at the end, or each interval (cumulative
// since the start, as a scrape sees them), for node_exporter's textfile
// collector. Null (--dry-run): the plan was printed.
int print_expositions(std::unique_ptr<ExportCollector> collector, const CommonOptions& options);

// -o prometheus on a tool that has no collector in corescope export: spec
// (the tool's own attach steps and configure, with whatever the metrics
// need turned on) loaded and attached as the tool does, and
// collect(Skeleton&, Exposition&) reading its maps at each interval or at
// the end, without clearing them (read_map, never take_map: counters and
// histograms stay cumulative, as Prometheus wants them). The tool adds only
// its metric names, help, labels and units: log2_histogram turns slots into
// buckets, the Exposition renders.
template <class Skeleton, class Collect>
int print_prometheus(const ToolSpec<Skeleton>& spec, Collect collect) {
    return print_expositions(export_collector(spec, std::move(collect)), spec.options);
}

// A map value's log2 slots (of the BPF headers' __u64, which is not
// uint64_t's type) as the vector log2_histogram reads; at most keep of them,
// the last one holding every slot from there up (the kernel's last slot
// holds what lies above it likewise), so that a tool with 64 slots gives
// the same 31 finite buckets as the others.
template <class T, size_t N>
std::vector<uint64_t> slots_of(const T (&slots)[N], size_t keep = N) {
    keep = std::min(keep, N);
    std::vector<uint64_t> out(std::begin(slots), std::begin(slots) + keep);
    for (size_t i = keep; i < N && keep > 0; i++)
        out[keep - 1] += slots[i];
    return out;
}

// bpf/hist_sums.bpf.h, between open and load: keep each histogram's sum,
// in a map of max_keys entries (the tool's histogram map's size).
template <class Skeleton>
void configure_hist_sums(Skeleton& skel, uint32_t max_keys) {
    skel.rodata->keep_sums = true;
    set_map_entries(skel.maps.hist_sums, max_keys);
}

// The sum bpf/hist_sums.bpf.h keeps for a histogram's key, in the unit the
// BPF side added (nanoseconds, bytes); 0 where it has none.
template <class Key>
uint64_t hist_sum(const bpf_map* sums, const Key& key) {
    uint64_t sum = 0;
    if (bpf_map__lookup_elem(sums, &key, sizeof key, &sum, sizeof sum, 0) != 0) return 0;
    return sum;
}

} // namespace corescope
