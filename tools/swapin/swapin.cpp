// swapin: pages read in from swap, by process, every interval (default 1 s).
#include "clock.h"
#include "decoder.h"
#include "map_reader.h"
#include "run.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "swapin.skel.h"
#include "swapin/swapin.h"

#include <algorithm>
#include <unistd.h>

namespace corescope::tools {

namespace {

using Entry = MapEntry<swapin_key, swapin_value>;

// Every interval, a line per process that read from swap, the most first.
class Printer {
  public:
    Printer(const CommonOptions& options, Output& out) : records_(options, out, layout()) {
        records_.header();
    }

    void print(std::vector<Entry> entries) {
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            if (a.value.count != b.value.count) return a.value.count > b.value.count;
            return a.key.pid < b.key.pid;
        });
        uint64_t now = monotonic_ns();
        for (const Entry& e : entries) {
            Task task;
            task.ts_ns = now;
            task.pid = e.key.pid;
            task.tid = e.key.pid;
            task.comm = fixed_string(e.key.comm);
            Record r = records_.begin(task);
            if (!r) continue;
            r.number(e.value.count).number(e.value.pages).end();
        }
    }

  private:
    // bcc's columns: COMM, PID, COUNT; then the pages.
    static RecordLayout layout() {
        return {task_time | task_pid | task_comm,
                {comm_column(), pid_column(), column("count", "COUNT", 8, Align::right),
                 column("pages", "PAGES", 8, Align::right)}};
    }

    RecordWriter records_;
};

std::vector<AttachStep> attach_steps() {
    // The kernel's swap read function, where it can be traced: every folio
    // read in, zswap's too. (swap_read_folio, its name since 6.9, is left
    // out: its folios may be large; kernels that new take the block route.)
    AttachStep step = function_tiers("swap-ins", {{"swap_readpage"}});
    // Block I/O: reads of pages in the swap cache.
    AttachStep bio = tracepoint_tiers("swap-ins", {{"bio_queue", "block:block_bio_queue"}},
                                      {AttachKind::tp_btf, AttachKind::raw_tp});
    for (AttachWay& way : bio.ways)
        step.ways.push_back(std::move(way));
    return {step};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval's table (key, then value).
void decode_swapin(const CommonOptions& options, uint32_t, Output& out,
                   std::span<const RecordedEvent> events) {
    Printer printer(options, out);
    printer.print(recorded_entries<swapin_key, swapin_value>(events));
}

int swapin(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("swapin",
                    "Count swap-ins (pages read back from swap) by process, every interval "
                    "(default 1 s).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::duration, Flag::interval});
    cli.set_examples("  swapin                    a table every second until Ctrl-C\n"
                     "  swapin -T 5               every 5 seconds, with times\n"
                     "  swapin -c /sys/fs/cgroup/app -o json   one cgroup's, as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;

    return run_summary_tool<swapin_bpf>(
        {.name = "swapin",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](swapin_bpf& skel, const AttachPlan&) {
                 skel.rodata->page_shift = static_cast<uint32_t>(
                     __builtin_ctzl(static_cast<unsigned long>(getpagesize())));
             },
         .announcement = interval_announcement(options, "Counting swap-ins")},
        [&](swapin_bpf& skel, const AttachPlan&, Output& out) {
            return [&skel, printer = Printer(options, out)]() mutable {
                printer.print(take_map<swapin_key, swapin_value>(skel.maps.counts));
                uint64_t dropped = __atomic_exchange_n(&skel.bss->dropped, 0, __ATOMIC_RELAXED);
                if (dropped)
                    warn("%llu swap-ins not counted (table of %d processes full)",
                         static_cast<unsigned long long>(dropped), SWAPIN_PROCESSES);
            };
        });
}

} // namespace corescope::tools
