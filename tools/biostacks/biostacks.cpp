// biostacks: block I/O latency by the kernel stack that started each
// request, with the submitting process and the disk: per stack a count, the
// total and average latency, and a log2 histogram; printed at the end, the
// busiest last (text) or first (JSON Lines).
#include "block_devices.h"
#include "decoder.h"
#include "filters.h"
#include "histogram.h"
#include "kernel_features.h"
#include "map_reader.h"
#include "run.h"
#include "stack_rows.h"
#include "stacks.h"

#include <linux/types.h>
#include "biostacks.skel.h"
#include "biostacks/biostacks.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace corescope::tools {

namespace {

struct Settings {
    StackOptions stacks;   // only --stack-storage-size: kernel stacks alone
    uint32_t disk_dev = 0; // --disk, as its dev_t; 0 for all
};

using Total = MapEntry<biostacks_key, biostacks_value>;

class Printer {
  public:
    // disks: names from /sys (decoders show MAJ:MIN instead).
    Printer(const CommonOptions& options, const Settings& settings, Output& out,
            std::shared_ptr<DiskNames> disks)
        : options_(options), unit_(options.milliseconds ? "msecs" : "usecs"),
          disks_(std::move(disks)),
          stacks_(options, settings.stacks, out,
                  {json_field("pid"), json_field("comm"), json_field("disk"), json_field("major"),
                   json_field("minor"), json_field("count"), json_field("total_us"),
                   json_field("avg_us"), json_field("histogram")}) {}

    // reader: names the stacks; nullptr where there is no stack map (decoders).
    void print(std::vector<Total> totals, StackReader* reader) {
        std::erase_if(totals, [&](const Total& t) {
            return !comm_matches(fixed_string(t.key.comm), options_.name);
        });
        std::sort(totals.begin(), totals.end(), [](const Total& a, const Total& b) {
            if (a.value.total_ns != b.value.total_ns) return a.value.total_ns > b.value.total_ns;
            return a.key.pid < b.key.pid;
        });
        StackRows<const Total*> rows; // in that order
        for (const Total& t : totals) {
            StackRecord record;
            record.pid = t.key.pid;
            record.comm = std::string(fixed_string(t.key.comm));
            if (reader) {
                record.kernel = reader->kernel(t.key.kernel_stack_id);
                drop_probe_frames(record.kernel);
            }
            record.value = t.value.count;
            rows.add(std::move(record), &t);
        }
        auto total_of = [&](const StackRecord& record) -> const Total& { return *rows.of(record); };
        stacks_.print(
            rows.records(),
            [&](const StackRecord& record, Record& r) {
                const Total& t = total_of(record);
                Histogram h = Histogram::log2_slots(t.value.slots);
                r.number(t.key.pid)
                    .text(record.comm)
                    .text(disk(t.key.dev))
                    .number(kernel_dev_major(t.key.dev))
                    .number(kernel_dev_minor(t.key.dev))
                    .number(t.value.count)
                    .number(t.value.total_ns / 1000)
                    .number(t.value.count ? t.value.total_ns / 1000 / t.value.count : 0)
                    .formatted(render_histogram_json(h, unit_));
            },
            [&](std::string& out, const StackRecord& record) {
                const Total& t = total_of(record);
                char line[160];
                out += text_escaped(record.comm);
                std::snprintf(line, sizeof(line), " (%u) on %s\n", t.key.pid,
                              text_escaped(disk(t.key.dev)).c_str());
                out += line;
                append_frames_multiline(out, record.kernel, "kernel");
                std::snprintf(line, sizeof(line),
                              "    count %llu, total %.3f ms, average %.3f ms\n",
                              static_cast<unsigned long long>(t.value.count),
                              static_cast<double>(t.value.total_ns) / 1e6,
                              t.value.count ? static_cast<double>(t.value.total_ns) / 1e6 /
                                                  static_cast<double>(t.value.count)
                                            : 0.0);
                out += line;
                out += render_histogram_text(Histogram::log2_slots(t.value.slots), unit_);
                out += '\n';
            });
    }

  private:
    std::string disk(uint32_t dev) const {
        if (disks_) return disks_->name(dev);
        return std::to_string(kernel_dev_major(dev)) + ":" + std::to_string(kernel_dev_minor(dev));
    }

    const CommonOptions& options_;
    std::string unit_; // the histograms': usecs, or msecs with -m
    std::shared_ptr<DiskNames> disks_;
    StackPrinter stacks_;
};

// One step, so that every block tracepoint comes from the same tier: the
// tracefs tier keys requests differently from the other two.
// block_io_start (6.5+, optional) is where a request meets its submitter,
// and its stack, for sure; before it, insert is where most do.
std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("block I/O requests", {{"io_start", "block:block_io_start", true},
                                                    {"merge", "block:block_rq_merge", true},
                                                    {"insert", "block:block_rq_insert"},
                                                    {"issue", "block:block_rq_issue"},
                                                    {"complete", "block:block_rq_complete"}})};
}

// 2 arguments, (q, rq), before 5.11; (rq) since.
uint32_t request_arg_index(const std::string& tracepoint) {
    return KernelFeatures::instance().tracepoint_arg_count(tracepoint) == 2 ? 1 : 0;
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the totals map's
// entries (key, then value), their stacks not named (no stack map); disks
// as MAJ:MIN; no variants.
void decode_biostacks(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    Settings settings;
    Printer(options, settings, out, nullptr)
        .print(recorded_entries<biostacks_key, biostacks_value>(events), nullptr);
}

int biostacks(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("biostacks",
                    "Block device I/O latency by the kernel stack that started each request.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration,
                     Flag::milliseconds});
    add_stack_storage_option(cli, settings.stacks.storage_size);
    cli.allow_svg();
    settings.stacks.count_name = "I/Os";
    cli.add_option(0, "disk", "NAME", "only this disk (vda, sda, nvme0n1)",
                   [&](std::string_view v) { settings.disk_dev = find_disk(v); });
    cli.set_examples("  biostacks                 every request's stack, until Ctrl-C\n"
                     "  biostacks -d 10           for ten seconds\n"
                     "  biostacks -p 185          requests submitted by process 185\n"
                     "  biostacks --disk sda      only sda\n"
                     "  biostacks -m              histograms in milliseconds\n"
                     "  biostacks -o json -d 5    a JSON Lines record per stack");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_summary_tool<biostacks_bpf>(
        {.name = "biostacks",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](biostacks_bpf& skel, const AttachPlan&) {
                 skel.rodata->insert_rq_arg = request_arg_index("block_rq_insert");
                 skel.rodata->issue_rq_arg = request_arg_index("block_rq_issue");
                 skel.rodata->merge_rq_arg = request_arg_index("block_rq_merge");
                 skel.rodata->only_dev = settings.disk_dev;
                 skel.rodata->unit_ns = options.milliseconds ? 1000000 : 1000;
                 configure_stack_map(skel.maps.stack_traces, settings.stacks);
             },
         .announcement = "Tracing block I/O latency by kernel stack... Hit Ctrl-C to end.",
         .detach_before_summary = true},
        [&](biostacks_bpf& skel, const AttachPlan&, Output& out) {
            return StackSummary<biostacks_key, biostacks_value, Printer>(
                skel.maps.totals, BIOSTACKS_MAX_KEYS, skel.maps.stack_traces,
                Printer(options, settings, out, std::make_shared<DiskNames>()), [&](Symbolizer&) {
                    report_missed_stacks(skel, settings.stacks.storage_size, options, out);
                    if (skel.bss->requests_dropped)
                        warn("%llu requests not counted (table of %d stacks full)",
                             static_cast<unsigned long long>(skel.bss->requests_dropped),
                             BIOSTACKS_MAX_KEYS);
                });
        });
}

} // namespace corescope::tools
