// wakeuptime: time threads spend blocked, summed by the thread that woke
// them (its name and its user and kernel stacks at the wake-up) and the
// thread woken; classic stacks, folded lines for flame graphs, or JSON Lines.
#include "stack_rows.h"
#include "wakeups.h"

#include "wakeuptime.skel.h"
#include "wakeuptime/wakeuptime.h"

#include <string>
#include <vector>

namespace corescope::tools {

namespace {

using Total = WakeupTotal<wakeuptime_key>;

// The totals as the waker's stacks, the most time first. The record's
// stacks and pid/comm are the waker's.
class Printer {
  public:
    Printer(const CommonOptions& options, const WakeupOptions& wakeups, Output& out)
        : options_(options), folded_(wakeups.stacks.folded),
          stacks_(options, wakeups.stacks, out,
                  {json_field("waker_pid"), json_field("waker_tid"), json_field("waker_comm"),
                   json_field("target_pid"), json_field("target_tid"), json_field("target_comm"),
                   json_field("total_us"), json_field("count")}) {}

    // reader: names the stacks; nullptr where there is no stack map (decoders).
    void print(std::vector<Total> totals, StackReader* reader) {
        select_wakeup_totals(totals, options_,
                             [](const Total& t) { return fixed_string(t.key.target_comm); });
        StackRows<const Total*> rows; // in that order
        for (const Total& t : totals)
            rows.add(wakeup_record(reader, t.key.waker, t.value), &t);
        auto total_of = [&](const StackRecord& record) -> const Total& { return *rows.of(record); };
        stacks_.print(
            rows.records(),
            [&](const StackRecord& record, Record& r) {
                const Total& t = total_of(record);
                r.number(t.key.waker.pid)
                    .number(t.key.waker.tid)
                    .text(record.comm)
                    .number(t.key.target_pid)
                    .number(t.key.target_tid)
                    .text(fixed_string(t.key.target_comm))
                    .number(record.value)
                    .number(t.value.count);
            },
            [&](std::string& out, const StackRecord& record) {
                const Total& t = total_of(record);
                if (folded_)
                    append_folded(out, t, record);
                else
                    append_classic(out, t, record);
            });
    }

  private:
    // The woken thread, then the waker's frames innermost first (from the
    // wake-up out to where the waker began), then the waker and the time.
    static void append_classic(std::string& out, const Total& t, const StackRecord& record) {
        append_task_line(out, "target:", fixed_string(t.key.target_comm), t.key.target_tid);
        append_frames_multiline(out, record.kernel, "kernel");
        if (record.kernel.state != ResolvedStack::State::absent &&
            record.user.state != ResolvedStack::State::absent)
            out += "    --\n";
        append_frames_multiline(out, record.user, "user");
        append_task_line(out, "waker:", record.comm, record.pid);
        out += "        ";
        append_unsigned(out, record.value);
        out += "\n\n";
    }

    // TARGET;waker frames innermost first;WAKER USECS: a flame graph of it
    // stands on the woken threads, the wake-ups above them.
    static void append_folded(std::string& out, const Total& t, const StackRecord& record) {
        append_folded_text(out, fixed_string(t.key.target_comm));
        append_frames_folded(out, record.kernel, "kernel", true);
        append_frames_folded(out, record.user, "user", true);
        out += ';';
        append_folded_text(out, record.comm);
        out += ' ';
        append_unsigned(out, record.value);
        out += '\n';
    }

    const CommonOptions& options_;
    bool folded_;
    StackPrinter stacks_;
};

} // namespace

void decode_wakeuptime(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    decode_wakeup_totals<wakeuptime_key, Printer>(options, variant, out, events);
}

int wakeuptime(int argc, char** argv) {
    return run_wakeup_tool<wakeuptime_bpf, wakeuptime_key, Printer>(
        argc, argv,
        {.name = "wakeuptime",
         .summary = "Summarize time blocked by the stack of the thread that woke it.",
         .examples = "  wakeuptime                   every thread, until Ctrl-C\n"
                     "  wakeuptime -d 5              for five seconds\n"
                     "  wakeuptime -p 185            threads of process 185 woken\n"
                     "  wakeuptime --min-block 1000  only blocks of 1 ms or more\n"
                     "  wakeuptime -f -d 10          folded, for flamegraph.pl\n"
                     "  wakeuptime -o json -p 185    one JSON object per waker stack",
         .announcement = "Tracing blocked time (us) by waker stack... Hit Ctrl-C to end."},
        [](StackCollector& c, const wakeuptime_key& key) { c.remember(key.waker.pid); });
}

} // namespace corescope::tools
