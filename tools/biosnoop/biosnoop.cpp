// biosnoop: one line per block I/O request, at its completion: who
// submitted it, which disk, what kind, where, how large, and how long it
// took (and, with -Q, how long it waited in the OS queue first).
#include "block_devices.h"
#include "clock.h"
#include "decoder.h"
#include "filters.h"
#include "run.h"

#include "biosnoop.skel.h"
#include "biosnoop/biosnoop.h"
#include <linux/types.h>

#include <cmath>
#include <cstdio>

namespace corescope::tools {

namespace {

struct Settings {
    bool queued = false;   // -Q
    uint32_t disk_dev = 0; // --disk, as its dev_t; 0 for all
    double min_ms = 0;     // --min
};

struct Printer {
    const CommonOptions& options;
    const Settings& settings;
    Output& out;
    EventClock clock;
    DiskNames disks;
    uint64_t start_ns = 0; // TIME(s) counts from here: when tracing started

    // Called once attached, so it also starts TIME(s).
    void header() {
        start_ns = monotonic_ns();
        if (options.format == OutputFormat::json) return;
        std::string& b = out.buffer();
        if (options.time) b += "TIME     ";
        b += "TIME(s)     COMM             PID     DISK      T    SECTOR       BYTES   ";
        if (settings.queued) b += "QUE(ms) ";
        b += "LAT(ms)\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < sizeof(biosnoop_event)) return;
        const auto* e = static_cast<const biosnoop_event*>(data);
        std::string_view comm = fixed_string(e->comm);
        if (!comm_matches(comm, options.name)) return;
        std::string_view rwbs = fixed_string(e->rwbs);
        const std::string& disk = disks.name(e->dev);
        double elapsed_s =
            e->ts_ns > start_ns ? static_cast<double>(e->ts_ns - start_ns) / 1e9 : 0.0;
        double lat_ms = static_cast<double>(e->lat_ns) / 1e6;
        double queue_ms = static_cast<double>(e->queue_ns) / 1e6;
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e->ts_ns);
            JsonObject j(b);
            j.string("time", when)
                .real("elapsed_s", elapsed_s, 6)
                .unsigned_number("pid", e->pid)
                .unsigned_number("tid", e->tid)
                .string("comm", comm)
                .string("disk", disk)
                .unsigned_number("major", kernel_dev_major(e->dev))
                .unsigned_number("minor", kernel_dev_minor(e->dev))
                .string("rwbs", rwbs)
                .unsigned_number("sector", e->sector)
                .unsigned_number("bytes", e->bytes);
            if (settings.queued) j.real("queue_ms", queue_ms, 3);
            j.real("latency_ms", lat_ms, 3).end_line();
        } else {
            if (options.time) {
                clock.append_hms(b, e->ts_ns);
                b += ' ';
            }
            char number[32];
            std::snprintf(number, sizeof number, "%-11.6f ", elapsed_s);
            b += number;
            append_escaped_padded(b, comm, 16);
            b += ' ';
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            append_escaped_padded(b, disk, 9);
            b += ' ';
            append_escaped_padded(b, rwbs,
                                  4); // built in the kernel from flags, but bytes all the same
            b += ' ';
            append_padded(b, std::to_string(e->sector), 12);
            b += ' ';
            append_padded(b, std::to_string(e->bytes), 7);
            b += ' ';
            if (settings.queued) {
                std::snprintf(number, sizeof number, "%7.3f ", queue_ms);
                b += number;
            }
            std::snprintf(number, sizeof number, "%7.3f\n", lat_ms);
            b += number;
        }
        out.end_record();
    }
};

// One step, so that every block tracepoint comes from the same tier: the
// tracefs tier keys requests differently from the other two.
// block_io_start (6.5+, optional) is where a request meets its submitter
// for sure; before it, insert is where most do. block_rq_merge (optional)
// forgets a request merged away, which never completes.
std::vector<AttachStep> attach_steps() {
    std::vector<AttachWay> ways;
    for (auto [kind, prefix] :
         {std::pair{AttachKind::tp_btf, "btf_"}, std::pair{AttachKind::raw_tp, "raw_"},
          std::pair{AttachKind::tracepoint, "tp_"}}) {
        AttachWay way;
        bool tracefs = kind == AttachKind::tracepoint; // clang 14 cannot capture kind
        auto block = [tracefs](const std::string& event) {
            return tracefs ? "block:" + event : event;
        };
        way.points.push_back(
            {prefix + std::string("io_start"), kind, block("block_io_start"), true});
        way.points.push_back({prefix + std::string("merge"), kind, block("block_rq_merge"), true});
        for (const char* step : {"insert", "issue", "complete"}) {
            way.points.push_back(
                {prefix + std::string(step), kind, block(std::string("block_rq_") + step)});
        }
        ways.push_back(std::move(way));
    }
    return {{"block I/O requests", std::move(ways)}};
}

// 2 arguments, (q, rq), before 5.11; (rq) since.
uint32_t request_arg_index(const std::string& tracepoint) {
    return KernelFeatures::instance().tracepoint_arg_count(tracepoint) == 2 ? 1 : 0;
}

} // namespace

// For tests/fuzz (common/decoder.h): one event through the printer; variant bit 0: -Q.
void decode_biosnoop(const CommonOptions& options, uint32_t variant, Output& out, const void* data,
                     size_t size) {
    Settings settings;
    settings.queued = (variant & 1) != 0;
    Printer printer{options, settings, out, {}, {}};
    printer.event(data, size);
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
                 skel.rodata->min_lat_ns = static_cast<__u64>(std::llround(settings.min_ms * 1e6));
             },
         .announcement = "Tracing block device I/O... Hit Ctrl-C to end."},
        [&](Output& out) {
            return Printer{options, settings, out, {}, {}};
        });
}

} // namespace corescope::tools
