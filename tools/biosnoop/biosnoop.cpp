// biosnoop: one line per block I/O request, at its completion: who
// submitted it, which disk, what kind, where, how large, and how long it
// took (and, with -Q, how long it waited in the OS queue first).
#include "block_devices.h"
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include "biosnoop.skel.h"
#include "biosnoop/biosnoop.h"
#include <linux/types.h>

#include <cstdio>
#include <memory>

namespace corescope::tools {

namespace {

struct Settings {
    bool queued = false;   // -Q
    uint32_t disk_dev = 0; // --disk, as its dev_t; 0 for all
    double min_ms = 0;     // --min
};

struct Printer {
    const Settings& settings;
    // Disk names from /sys; decoders show MAJ:MIN instead.
    std::shared_ptr<DiskNames> disks;
    uint64_t start_ns = 0; // TIME(s) counts from here: when tracing started

    void started() { start_ns = monotonic_ns(); }

    RecordLayout layout() const {
        return {task_time | task_pid | task_tid | task_comm,
                {with_decimals(6, column("elapsed_s", "TIME(s)", 11)), comm_column(), pid_column(),
                 column("disk", "DISK", 9), json_field("major"), json_field("minor"),
                 column("rwbs", "T", 4), column("sector", "SECTOR", 12),
                 column("bytes", "BYTES", 7),
                 shown_if(settings.queued, column("queue_ms", "QUE(ms)", 7, Align::right)),
                 column("latency_ms", "LAT(ms)", 7, Align::right)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<biosnoop_event>(data, size);
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.real(e->ts_ns > start_ns ? static_cast<double>(e->ts_ns - start_ns) / 1e9 : 0.0)
            .text(disks ? disks->name(e->dev)
                        : std::to_string(kernel_dev_major(e->dev)) + ":" +
                              std::to_string(kernel_dev_minor(e->dev)))
            .number(kernel_dev_major(e->dev))
            .number(kernel_dev_minor(e->dev))
            .text(fixed_string(e->rwbs))
            .number(e->sector)
            .number(e->bytes)
            .real(static_cast<double>(e->queue_ns) / 1e6)
            .real(static_cast<double>(e->lat_ns) / 1e6)
            .end();
    }
};

// One step, so that every block tracepoint comes from the same tier: the
// tracefs tier keys requests differently from the other two.
// block_io_start (6.5+, optional) is where a request meets its submitter
// for sure; before it, insert is where most do. block_rq_merge (optional)
// forgets a request merged away, which never completes.
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

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -Q.
void decode_biosnoop(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    Settings settings;
    settings.queued = (variant & 1) != 0;
    decode_events(Printer{settings, nullptr}, options, out, events);
}

int biosnoop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli(
        "biosnoop", "Trace block device I/O: one line per request, with its latency.",
        {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::duration});
    cli.add_switch('Q', "queued", "add QUE(ms): the time each request waited in the OS queue",
                   &settings.queued);
    cli.add_option(0, "disk", "NAME", "only this disk (vda, sda, nvme0n1)",
                   [&](std::string_view v) { settings.disk_dev = find_disk(v); });
    cli.add_option(
        0, "min", "MS", "only requests whose LAT(ms) is at least this (default 0: all)",
        [&](std::string_view v) { settings.min_ms = parse_milliseconds("minimum latency", v); });
    cli.set_examples("  biosnoop                  every block request\n"
                     "  biosnoop -Q               with the time queued in the OS\n"
                     "  biosnoop --disk sda       only sda\n"
                     "  biosnoop -p 181 -T        requests of PID 181, with times\n"
                     "  biosnoop --min 10         requests slower than 10 ms\n"
                     "  biosnoop -o json -d 10    ten seconds of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<biosnoop_bpf>(
        {.name = "biosnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](biosnoop_bpf& skel, const AttachPlan&) {
                 skel.rodata->insert_rq_arg = request_arg_index("block_rq_insert");
                 skel.rodata->issue_rq_arg = request_arg_index("block_rq_issue");
                 skel.rodata->merge_rq_arg = request_arg_index("block_rq_merge");
                 skel.rodata->only_dev = settings.disk_dev;
                 skel.rodata->min_lat_ns = milliseconds_to_ns(settings.min_ms);
             },
         .announcement = "Tracing block device I/O... Hit Ctrl-C to end."},
        Printer{settings, std::make_shared<DiskNames>()});
}

} // namespace corescope::tools
