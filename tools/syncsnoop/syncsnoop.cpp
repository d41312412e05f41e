// syncsnoop: trace sync(), fsync(), fdatasync(), syncfs(), sync_file_range()
// and msync(MS_SYNC), with the file, how long the call took and its result.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "syncsnoop/syncsnoop.h"
#include "syncsnoop.skel.h"

#include <cstddef>

namespace corescope::tools {

namespace {

const char* const call_names[SYNCSNOOP_CALLS] = {"sync",   "fsync",           "fdatasync",
                                                 "syncfs", "sync_file_range", "msync"};

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("call", "CALL", 15),
                 with_text_decimals(3, column("latency_ms", "LAT(ms)", 9, Align::right)),
                 column("errno", "ERR", 3, Align::right), json_field("fd"), json_field("flags"),
                 column("file", "FILE", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<syncsnoop_event>(data, size, offsetof(syncsnoop_event, path));
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.text(call_names[e->call % SYNCSNOOP_CALLS])
            .real(static_cast<double>(e->lat_ns) / 1e6)
            .number(errno_of_return(e->ret));
        if (e->fd >= 0)
            r.number(e->fd);
        else
            r.null();
        r.number(e->flags);
        std::string_view block(
            e->path, std::min<size_t>(e->path_len, size - offsetof(syncsnoop_event, path)));
        if (block.empty())
            r.null();
        else
            r.text(path_from_components(block, e->path_complete));
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("sync system calls", {{"sync"},
                                                {"fsync"},
                                                {"fdatasync"},
                                                {"syncfs"},
                                                {"sync_file_range", true, true, true},
                                                {"msync"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_syncsnoop(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int syncsnoop(int argc, char** argv) {
    CommonOptions options;
    double min_ms = 0;
    CommandLine cli(
        "syncsnoop",
        "Trace sync(), fsync(), fdatasync(), syncfs(), sync_file_range() and msync(MS_SYNC).",
        {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed, Flag::time,
         Flag::print_uid, Flag::duration});
    cli.add_option(0, "min", "MS", "only calls that took at least this long (default 0: all)",
                   [&](std::string_view v) { min_ms = parse_milliseconds("minimum latency", v); });
    cli.set_examples("  syncsnoop                 every sync call\n"
                     "  syncsnoop --min 10        only those that took 10 ms or more\n"
                     "  syncsnoop -p 181 -T       process 181, with times\n"
                     "  syncsnoop -o json -d 60   a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<syncsnoop_bpf>(
        {.name = "syncsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](syncsnoop_bpf& skel, const AttachPlan&) {
                 skel.rodata->min_lat_ns = milliseconds_to_ns(min_ms);
             },
         .announcement = "Tracing sync calls... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
