// compactsnoop: trace memory compaction, zone by zone: who ran it, the
// zone, the order it compacted for, the migration mode, its latency and
// its result.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "compactsnoop.skel.h"
#include "compactsnoop/compactsnoop.h"

#include <algorithm>
#include <cstring>

namespace corescope::tools {

namespace {

const char* const mode_names[COMPACTSNOOP_MODES] = {"async", "sync_light", "sync", "unknown"};
// The kernel's names for enum compact_result (its tracepoints' print format).
const char* const status_names[COMPACTSNOOP_STATUSES] = {
    "not_suitable_zone", "skipped",         "deferred",  "no_suitable_page", "continue",
    "complete",          "partial_skipped", "contended", "success",          "unknown"};

struct Printer {
    bool extended; // -e: the zone's free pages and watermarks at the begin in text

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("node", "NODE", 4, Align::right),
                 column("zone", "ZONE", 8), column("order", "ORDER", 5, Align::right),
                 column("mode", "MODE", 10),
                 with_decimals(
                     6, with_text_decimals(3, column("latency_ms", "LAT(ms)", 9, Align::right))),
                 column("status", "STATUS", 17), json_field("free_pages"),
                 shown_if(extended, text_column("FREE", 9, Align::right)), json_field("min_pages"),
                 shown_if(extended, text_column("MIN", 7, Align::right)), json_field("low_pages"),
                 shown_if(extended, text_column("LOW", 7, Align::right)), json_field("high_pages"),
                 shown_if(extended, text_column("HIGH", 7, Align::right))}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<compactsnoop_event>(data, size);
        if (!event) return;
        compactsnoop_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        if (e.node >= 0)
            r.number(e.node);
        else
            r.null();
        std::string_view zone = fixed_string(e.zone);
        if (zone.empty())
            r.null();
        else
            r.text(zone);
        r.number(e.order)
            .text(mode_names[std::min<uint32_t>(e.mode, COMPACTSNOOP_MODE_UNKNOWN)])
            .real(static_cast<double>(e.lat_ns) / 1e6)
            .text(status_names[std::min<uint32_t>(e.status, COMPACTSNOOP_STATUS_UNKNOWN)]);
        for (uint64_t pages : {e.free_pages, e.min_pages, e.low_pages, e.high_pages}) {
            if (pages == COMPACTSNOOP_UNKNOWN)
                r.null().null();
            else
                r.number(pages).number(pages);
        }
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    // The tracefs records carry PFNs, not the zone or order: BTF and raw only.
    return {tracepoint_tiers(
        "compaction",
        {{"begin", "compaction:mm_compaction_begin"}, {"end", "compaction:mm_compaction_end"}},
        {AttachKind::tp_btf, AttachKind::raw_tp})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -e.
void decode_compactsnoop(const CommonOptions& options, uint32_t variant, Output& out,
                         std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & 1) != 0}, options, out, events);
}

int compactsnoop(int argc, char** argv) {
    CommonOptions options;
    bool extended = false;
    CommandLine cli("compactsnoop",
                    "Trace memory compaction: the zone, the order, the mode, the latency and the "
                    "result.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_switch('e', "extended",
                   "also the zone's FREE pages and MIN, LOW, HIGH watermarks at the begin",
                   &extended);
    cli.set_examples("  compactsnoop              every compaction of a zone\n"
                     "  compactsnoop -T -e        with times, free pages and watermarks\n"
                     "  compactsnoop -p 181       those process 181 ran (direct compaction)\n"
                     "  compactsnoop -o json      JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<compactsnoop_bpf>(
        {.name = "compactsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing memory compaction... Hit Ctrl-C to end."},
        Printer{extended});
}

} // namespace corescope::tools
