// offwaketime: time threads spend blocked off CPU, summed by where they
// blocked (user and kernel stack) joined with the thread that woke them and
// where it was; classic stacks, folded lines for flame graphs, or JSON Lines.
#include "decoder.h"
#include "filters.h"
#include "map_reader.h"
#include "run.h"
#include "stacks.h"
#include "wakeups.h"

#include "offwaketime.skel.h"
#include "offwaketime/offwaketime.h"
#include <linux/types.h>

#include <algorithm>
#include <string>
#include <vector>

namespace corescope::tools {

namespace {

using Total = MapEntry<offwaketime_key, wakeups_value>;

// The waker's stacks of a record, beside the target's in StackRecord.
struct WakerStacks {
    ResolvedStack user;
    ResolvedStack kernel;
};

// The totals, the most time first. The record's stacks and pid/comm are the
// blocked thread's (as offcputime's), the waker's are in fields of their own.
class Printer {
  public:
    Printer(const CommonOptions& options, const WakeupOptions& wakeups, Output& out)
        : options_(options), folded_(wakeups.stacks.folded),
          stacks_(options, wakeups.stacks, out,
                  {json_field("pid"), json_field("tid"), json_field("comm"),
                   json_field("waker_pid"), json_field("waker_tid"), json_field("waker_comm"),
                   json_field("total_us"), json_field("count"), json_field("waker_user_stack"),
                   json_field("waker_user_stack_missed"), json_field("waker_kernel_stack"),
                   json_field("waker_kernel_stack_missed")}) {}

    // reader: names the stacks; nullptr where there is no stack map (decoders).
    void print(std::vector<Total> totals, StackReader* reader) {
        std::erase_if(totals, [&](const Total& t) {
            return !comm_matches(fixed_string(t.key.target.comm), options_.name);
        });
        std::sort(totals.begin(), totals.end(), [](const Total& a, const Total& b) {
            return a.value.total_ns > b.value.total_ns;
        });
        std::vector<StackRecord> records;
        std::vector<WakerStacks> wakers;
        for (const Total& t : totals) {
            StackRecord record;
            record.pid = t.key.target.tid;
            record.comm = std::string(fixed_string(t.key.target.comm));
            read_task_stacks(reader, t.key.target, record.user, record.kernel);
            record.value = t.value.total_ns / 1000;
            records.push_back(std::move(record));
            WakerStacks waker;
            read_task_stacks(reader, t.key.waker, waker.user, waker.kernel);
            wakers.push_back(std::move(waker));
        }
        auto index_of = [&](const StackRecord& record) {
            return static_cast<size_t>(&record - records.data());
        };
        stacks_.print(
            records,
            [&](const StackRecord& record, Record& r) {
                const Total& t = totals[index_of(record)];
                const WakerStacks& waker = wakers[index_of(record)];
                r.number(t.key.target.pid)
                    .number(t.key.target.tid)
                    .text(record.comm)
                    .number(t.key.waker.pid)
                    .number(t.key.waker.tid)
                    .text(fixed_string(t.key.waker.comm))
                    .number(record.value)
                    .number(t.value.count)
                    .lazy([&] { return Formatted{stack_frames_json(waker.user)}; })
                    .boolean(waker.user.state == ResolvedStack::State::missed)
                    .lazy([&] { return Formatted{stack_frames_json(waker.kernel)}; })
                    .boolean(waker.kernel.state == ResolvedStack::State::missed);
            },
            [&](std::string& out, const StackRecord& record) {
                const Total& t = totals[index_of(record)];
                const WakerStacks& waker = wakers[index_of(record)];
                if (folded_)
                    append_folded(out, t, record, waker);
                else
                    append_classic(out, t, record, waker);
            });
    }

  private:
    // Read from the bottom up, as a flame graph: the blocked thread, from
    // where it began to where it blocked; "--"; the waker from where it woke
    // the thread out to where it began; the waker's name on top.
    static void append_classic(std::string& out, const Total& t, const StackRecord& record,
                               const WakerStacks& waker) {
        append_task_line(out, "waker:", fixed_string(t.key.waker.comm), t.key.waker.tid);
        append_frames_multiline(out, waker.user, "user", true);
        append_frames_multiline(out, waker.kernel, "kernel", true);
        out += "    --\n";
        append_frames_multiline(out, record.kernel, "kernel");
        append_frames_multiline(out, record.user, "user");
        append_task_line(out, "target:", record.comm, record.pid);
        out += "        ";
        append_unsigned(out, record.value);
        out += "\n\n";
    }

    // TARGET;its frames outermost first;--;the waker's innermost first;WAKER USECS.
    static void append_folded(std::string& out, const Total& t, const StackRecord& record,
                              const WakerStacks& waker) {
        append_folded_text(out, record.comm);
        append_frames_folded(out, record.user, "user");
        append_frames_folded(out, record.kernel, "kernel");
        out += ";--";
        append_frames_folded(out, waker.kernel, "kernel", true);
        append_frames_folded(out, waker.user, "user", true);
        out += ';';
        append_folded_text(out, fixed_string(t.key.waker.comm));
        out += ' ';
        append_unsigned(out, record.value);
        out += '\n';
    }

    const CommonOptions& options_;
    bool folded_;
    StackPrinter stacks_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the totals map's
// entries (key, then value), their stacks not named (no stack map);
// variant bit 0: -f.
void decode_offwaketime(const CommonOptions& options, uint32_t variant, Output& out,
                        std::span<const RecordedEvent> events) {
    WakeupOptions wakeups;
    wakeups.stacks.folded = (variant & 1) != 0 && options.format == OutputFormat::text;
    Printer(options, wakeups, out)
        .print(recorded_entries<offwaketime_key, wakeups_value>(events), nullptr);
}

int offwaketime(int argc, char** argv) {
    CommonOptions options;
    WakeupOptions wakeups;
    CommandLine cli("offwaketime",
                    "Summarize blocked time by the blocked stack joined with its waker's stack.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    add_wakeup_options(cli, wakeups);
    cli.set_examples("  offwaketime                   every thread, until Ctrl-C\n"
                     "  offwaketime -d 5              for five seconds\n"
                     "  offwaketime -p 185            threads of process 185 that block\n"
                     "  offwaketime --min-block 1000  only blocks of 1 ms or more\n"
                     "  offwaketime -f -d 10          folded, for flamegraph.pl\n"
                     "  offwaketime -o json -p 185    one JSON object per pair of stacks");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    check_wakeup_options(wakeups, options);

    return run_summary_tool<offwaketime_bpf>(
        {.name = "offwaketime",
         .options = options,
         .attach_steps = wakeup_attach_steps,
         .configure = [&](offwaketime_bpf& skel,
                          const AttachPlan&) { configure_wakeups(skel, wakeups); },
         .announcement = "Tracing blocked time (us) by stack and waker stack... Hit Ctrl-C to "
                         "end.",
         .detach_before_summary = true},
        [&](offwaketime_bpf& skel, const AttachPlan&, Output& out) {
            return StackSummary<offwaketime_key, wakeups_value, Printer>(
                skel.maps.totals, WAKEUPS_MAX_KEYS, skel.maps.stack_traces,
                Printer(options, wakeups, out),
                [&](Symbolizer&) {
                    report_missed_stacks(skel.bss->stack_id_collisions,
                                         skel.bss->stack_id_no_memory, wakeups.stacks.storage_size,
                                         options, out);
                    report_wakeups_dropped(skel.bss->dropped, options, out);
                },
                [](StackCollector& c, const offwaketime_key& key) {
                    c.remember(key.target.pid);
                    c.remember(key.waker.pid);
                });
        });
}

} // namespace corescope::tools
