// drsnoop: trace the reclaim tasks run themselves: direct reclaim (the host
// short of free memory) and memory cgroup reclaim (a cgroup at its limit),
// with how long each took and the pages it freed.
#include "cgroups.h"
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "drsnoop.skel.h"
#include "drsnoop/drsnoop.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <unistd.h>

namespace corescope::tools {

namespace {

const char* const kind_names[DRSNOOP_KINDS] = {"direct", "memcg"};

struct Printer {
    bool extended; // -e: the allocation's order and gfp flags in text
    // Names the task's memory cgroup on the running system; decoders do not.
    std::shared_ptr<MemcgPaths> memcgs;

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("kind", "KIND", 6),
                 with_decimals(
                     6, with_text_decimals(3, column("latency_ms", "LAT(ms)", 9, Align::right))),
                 column("pages", "PAGES", 7, Align::right),
                 column("free_kb", "FREE(KB)", 10, Align::right), json_field("order"),
                 shown_if(extended, text_column("ORDER", 5, Align::right)), json_field("gfp_flags"),
                 shown_if(extended, text_column("GFP", 10)), json_field("cgroup_id"),
                 column("cgroup", "CGROUP", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<drsnoop_event>(data, size);
        if (!event) return;
        drsnoop_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        r.text(e.kind < DRSNOOP_KINDS ? kind_names[e.kind] : "unknown")
            .real(static_cast<double>(e.lat_ns) / 1e6)
            .number(e.nr_reclaimed);
        if (e.free_kb == DRSNOOP_FREE_UNKNOWN)
            r.null();
        else
            r.number(e.free_kb);
        r.number(e.order).number(e.order).number(e.gfp_flags).text(hex_number(e.gfp_flags));
        if (e.memcg_id)
            r.number(e.memcg_id);
        else
            r.null();
        std::string cgroup = memcgs && e.memcg_id ? memcgs->path(e.memcg_id) : std::string();
        if (cgroup.empty())
            r.null();
        else
            r.text(cgroup);
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    // Memory cgroup reclaim exists only where the kernel has memory cgroups.
    return {
        tracepoint_tiers("reclaim", {{"direct_begin", "vmscan:mm_vmscan_direct_reclaim_begin"},
                                     {"direct_end", "vmscan:mm_vmscan_direct_reclaim_end"},
                                     {"memcg_begin", "vmscan:mm_vmscan_memcg_reclaim_begin", true},
                                     {"memcg_end", "vmscan:mm_vmscan_memcg_reclaim_end", true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -e.
void decode_drsnoop(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & 1) != 0, nullptr}, options, out, events);
}

int drsnoop(int argc, char** argv) {
    CommonOptions options;
    bool extended = false;
    CommandLine cli("drsnoop",
                    "Trace direct and memory cgroup reclaim: the task, its latency, pages freed.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_switch('e', "extended", "also the allocation's ORDER and GFP flags in text", &extended);
    cli.set_examples("  drsnoop                   every direct and memory cgroup reclaim\n"
                     "  drsnoop -p 181 -T         process 181, with times\n"
                     "  drsnoop -e                with each allocation's order and gfp flags\n"
                     "  drsnoop -o json -d 60     a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<drsnoop_bpf>(
        {.name = "drsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](drsnoop_bpf& skel, const AttachPlan&) {
                 skel.rodata->page_shift = static_cast<uint32_t>(
                     __builtin_ctzl(static_cast<unsigned long>(getpagesize())));
             },
         .announcement = "Tracing direct and memory cgroup reclaim... Hit Ctrl-C to end."},
        Printer{extended, std::make_shared<MemcgPaths>()});
}

} // namespace corescope::tools
