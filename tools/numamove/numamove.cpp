// numamove: page migrations by NUMA balancing (or, with -a, for any reason)
// and the time spent in them, every interval (default 1 s).
#include "decoder.h"
#include "map_reader.h"
#include "run.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "numamove.skel.h"
#include "numamove/numamove.h"

namespace corescope::tools {

namespace {

void add_counts(numamove_counts& sum, const numamove_counts& one) {
    sum.migrations += one.migrations;
    sum.pages += one.pages;
    sum.failed += one.failed;
    sum.ns += one.ns;
}

numamove_counts read_counts(const bpf_map* map) {
    auto entries = read_percpu_map<uint32_t, numamove_counts>(map, add_counts);
    if (entries.empty()) throw RuntimeError("cannot read the migration counters");
    return entries.front().value;
}

// One line per interval: what the counters added since the last one.
class Printer {
  public:
    Printer(const CommonOptions& options, Output& out, bool all_reasons, numamove_counts start)
        : records_(options, out, layout(all_reasons)), before_(start) {
        records_.header();
    }

    void print(const numamove_counts& now, double seconds) {
        numamove_counts d{now.migrations - before_.migrations, now.pages - before_.pages,
                          now.failed - before_.failed, now.ns - before_.ns};
        before_ = now;
        records_.begin()
            .text(iso_time_now())
            .real(seconds)
            .number(d.migrations)
            .real(static_cast<double>(d.ns) / 1e6)
            .number(d.pages)
            .number(d.failed)
            .end();
    }

  private:
    // bcc's column names for NUMA balancing; plain ones for every reason.
    static RecordLayout layout(bool all_reasons) {
        return {
            0,
            {json_field("time"), json_field("interval_s"),
             column("migrations", all_reasons ? "MIGRATIONS" : "NUMA_migrations", 15, Align::right),
             with_decimals(6,
                           with_text_decimals(
                               0, column("ms", all_reasons ? "MIGRATIONS_ms" : "NUMA_migrations_ms",
                                         18, Align::right))),
             column("pages", "PAGES", 10, Align::right),
             column("failed", "FAILED", 8, Align::right)}};
    }

    RecordWriter records_;
    numamove_counts before_;
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("page migrations", {{"start", "migrate:mm_migrate_pages_start"},
                                                 {"end", "migrate:mm_migrate_pages"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counters at the
// end of each one-second interval (key, then numamove_counts summed over the
// CPUs), the first interval counted from zero; variant bit 0: -a.
void decode_numamove(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_intervals<numamove_counts>(Printer(options, out, (variant & 1) != 0, {}), events);
}

int numamove(int argc, char** argv) {
    CommonOptions options;
    bool all_reasons = false;
    CommandLine cli("numamove",
                    "Count NUMA balancing's page migrations and the time spent in them, every "
                    "interval (default 1 s).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::duration, Flag::interval});
    cli.add_switch('a', "all", "count migrations for every reason (compaction, move_pages...)",
                   &all_reasons);
    cli.set_examples("  numamove                  a line every second until Ctrl-C\n"
                     "  numamove -T 5             every 5 seconds, with times\n"
                     "  numamove -a               every migration, not only NUMA balancing's\n"
                     "  numamove -p 181 -o json   process 181's, as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;

    return run_summary_tool<numamove_bpf>(
        {.name = "numamove",
         .options = options,
         .attach_steps = attach_steps,
         .configure = [&](numamove_bpf& skel,
                          const AttachPlan&) { skel.rodata->all_reasons = all_reasons; },
         .announcement = interval_announcement(options, all_reasons ? "Counting page migrations"
                                                                    : "Counting NUMA migrations")},
        [&](numamove_bpf& skel, const AttachPlan&, Output& out) {
            // Counted from zero, not from a read here (common/run.h says why).
            return print_rates(Printer(options, out, all_reasons, numamove_counts{}),
                               [counts = skel.maps.counts] { return read_counts(counts); });
        });
}

} // namespace corescope::tools
