// writeback: trace the flusher's writeback passes: the device, why it
// wrote, the pages written and how long the pass took.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "writeback.skel.h"
#include "writeback/writeback.h"

#include <cstring>
#include <string>

namespace corescope::tools {

namespace {

// enum wb_reason, as the tracepoint prints it.
const char* const reason_names[] = {"background",    "vmscan",       "sync",
                                    "periodic",      "laptop_timer", "fs_free_space",
                                    "forker_thread", "foreign_flush"};

std::string reason_name(uint32_t reason) {
    if (reason < std::size(reason_names)) return reason_names[reason];
    return "reason_" + std::to_string(reason);
}

// A kernel dev_t: major in the high 12 bits, minor in the low 20.
std::string kernel_dev(uint32_t dev) {
    return std::to_string(dev >> 20) + ":" + std::to_string(dev & ((1u << 20) - 1));
}

struct Printer {
    RecordLayout layout() const {
        return {task_time,
                {column("device", "DEVICE", 10), json_field("sb_dev"),
                 column("pages", "PAGES", 8, Align::right), column("reason", "REASON", 14),
                 json_field("sync"),
                 with_decimals(
                     6, with_text_decimals(3, column("latency_ms", "LAT(ms)", 10, Align::right))),
                 json_field("flusher_pid")}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<writeback_event>(data, size);
        if (!event) return;
        writeback_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        r.text(fixed_string(e.bdi));
        if (e.sb_dev)
            r.text(kernel_dev(e.sb_dev));
        else
            r.null();
        r.number(e.pages)
            .text(reason_name(e.reason))
            .boolean(e.sync_mode != 0)
            .real(static_cast<double>(e.lat_ns) / 1e6)
            .number(e.pid)
            .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("writeback passes", {{"start", "writeback:writeback_start"},
                                                  {"written", "writeback:writeback_written"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_writeback(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int writeback(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("writeback", "Trace writeback passes: device, reason, pages written, latency.",
                    {Flag::time, Flag::duration});
    cli.set_examples("  writeback                 every writeback pass until Ctrl-C\n"
                     "  writeback -T              with times\n"
                     "  writeback -o json -d 60   a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<writeback_bpf>(
        {.name = "writeback",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing writeback... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
