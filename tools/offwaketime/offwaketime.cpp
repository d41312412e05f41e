// offwaketime: time threads spend blocked off CPU, summed by where they
// blocked (user and kernel stack) joined with the thread that woke them and
// where it was; classic stacks, folded lines for flame graphs, or JSON Lines.
#include "stack_rows.h"
#include "wakeups.h"

#include "offwaketime.skel.h"
#include "offwaketime/offwaketime.h"

#include <string>
#include <vector>

namespace corescope::tools {

namespace {

using Total = WakeupTotal<offwaketime_key>;

// The totals, the most time first. The record's stacks and pid/comm are the
// blocked thread's (as offcputime's), the waker's are in a record of their
// own beside it.
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
        select_wakeup_totals(totals, options_,
                             [](const Total& t) { return fixed_string(t.key.target.comm); });
        // Each woken thread's record beside its total and its waker's record.
        StackRows<std::pair<const Total*, StackRecord>> rows; // in that order
        for (const Total& t : totals)
            rows.add(wakeup_record(reader, t.key.target, t.value),
                     {&t, wakeup_record(reader, t.key.waker, t.value)});
        stacks_.print(
            rows.records(),
            [&](const StackRecord& record, Record& r) {
                // Not a structured binding: clang 14 (the sanitized
                // build) cannot capture one in the lambdas below.
                const auto& row = rows.of(record);
                const Total& t = *row.first;
                const StackRecord& waker = row.second;
                r.number(t.key.target.pid)
                    .number(t.key.target.tid)
                    .text(record.comm)
                    .number(t.key.waker.pid)
                    .number(t.key.waker.tid)
                    .text(waker.comm)
                    .number(record.value)
                    .number(t.value.count)
                    .lazy([&] { return Formatted{stack_frames_json(waker.user)}; })
                    .boolean(waker.user.state == ResolvedStack::State::missed)
                    .lazy([&] { return Formatted{stack_frames_json(waker.kernel)}; })
                    .boolean(waker.kernel.state == ResolvedStack::State::missed);
            },
            [&](std::string& out, const StackRecord& record) {
                const StackRecord& waker = rows.of(record).second;
                if (folded_)
                    append_folded(out, record, waker);
                else
                    append_classic(out, record, waker);
            });
    }

  private:
    // Read from the bottom up, as a flame graph: the blocked thread, from
    // where it began to where it blocked; "--"; the waker from where it woke
    // the thread out to where it began; the waker's name on top.
    static void append_classic(std::string& out, const StackRecord& record,
                               const StackRecord& waker) {
        append_task_line(out, "waker:", waker.comm, waker.pid);
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
    static void append_folded(std::string& out, const StackRecord& record,
                              const StackRecord& waker) {
        append_folded_text(out, record.comm);
        append_frames_folded(out, record.user, "user");
        append_frames_folded(out, record.kernel, "kernel");
        out += ";--";
        append_frames_folded(out, waker.kernel, "kernel", true);
        append_frames_folded(out, waker.user, "user", true);
        out += ';';
        append_folded_text(out, waker.comm);
        out += ' ';
        append_unsigned(out, record.value);
        out += '\n';
    }

    const CommonOptions& options_;
    bool folded_;
    StackPrinter stacks_;
};

} // namespace

void decode_offwaketime(const CommonOptions& options, uint32_t variant, Output& out,
                        std::span<const RecordedEvent> events) {
    decode_wakeup_totals<offwaketime_key, Printer>(options, variant, out, events);
}

int offwaketime(int argc, char** argv) {
    return run_wakeup_tool<offwaketime_bpf, offwaketime_key, Printer>(
        argc, argv,
        {.name = "offwaketime",
         .summary = "Summarize blocked time by the blocked stack joined with its waker's stack.",
         .examples = "  offwaketime                   every thread, until Ctrl-C\n"
                     "  offwaketime -d 5              for five seconds\n"
                     "  offwaketime -p 185            threads of process 185 that block\n"
                     "  offwaketime --min-block 1000  only blocks of 1 ms or more\n"
                     "  offwaketime -f -d 10          folded, for flamegraph.pl\n"
                     "  offwaketime -o json -p 185    one JSON object per pair of stacks",
         .announcement = "Tracing blocked time (us) by stack and waker stack... Hit Ctrl-C to "
                         "end."},
        [](StackCollector& c, const offwaketime_key& key) {
            c.remember(key.target.pid);
            c.remember(key.waker.pid);
        });
}

} // namespace corescope::tools
