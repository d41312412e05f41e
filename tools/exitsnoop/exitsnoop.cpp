// exitsnoop: trace process (and thread) exits, with their age and exit status.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include "exitsnoop.skel.h"
#include "exitsnoop/exitsnoop.h"
#include <linux/types.h>

#include <cstring>

namespace corescope::tools {

namespace {

// task->exit_code as wait(2) would report it.
struct ExitStatus {
    int code = 0;   // exit(code), when not signalled
    int signal = 0; // the signal that ended it, 0 if none
    bool core = false;
};

ExitStatus decode(uint32_t exit_code) {
    ExitStatus s;
    s.signal = static_cast<int>(exit_code & 0x7f);
    s.core = (exit_code & 0x80) != 0;
    if (s.signal == 0) s.code = static_cast<int>((exit_code >> 8) & 0xff);
    return s;
}

std::string signal_name(int sig) {
    const char* name = sigabbrev_np(sig);
    return name ? name : std::to_string(sig);
}

// "0", "code 7", "signal 9 (KILL)", "signal 11 (SEGV), core dumped"
std::string describe(const ExitStatus& s) {
    if (s.signal == 0) return s.code == 0 ? "0" : "code " + std::to_string(s.code);
    std::string out = "signal " + std::to_string(s.signal) + " (" + signal_name(s.signal) + ")";
    if (s.core) out += ", core dumped";
    return out;
}

struct Printer {
    bool threads; // --threads

    RecordLayout layout() const {
        return {task_all,
                {comm_column("PCOMM"), pid_column(), column("ppid", "PPID", 7), tid_column(),
                 with_text_decimals(2, column("age_s", "AGE(s)", 7)), json_field("exit_code"),
                 json_field("signal"), json_field("signal_name"), json_field("core_dumped"),
                 json_field("status"), shown_if(threads, json_field("process_exit")),
                 text_column("EXIT_CODE", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<exitsnoop_event>(data, size);
        if (!event) return;
        exitsnoop_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        ExitStatus status = decode(e.exit_code);
        r.number(e.ppid).real(e.ts_ns > e.start_ns ? static_cast<double>(e.ts_ns - e.start_ns) / 1e9
                                                   : 0.0);
        if (status.signal)
            r.null().number(status.signal).text(signal_name(status.signal));
        else
            r.number(status.code).null().null();
        r.boolean(status.core)
            .number(e.exit_code)
            .boolean(e.thread == 0)
            .lazy([&] { return describe(status); })
            .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("process exit", {{"exit", "sched:sched_process_exit"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: --threads.
void decode_exitsnoop(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & 1) != 0}, options, out, events);
}

int exitsnoop(int argc, char** argv) {
    CommonOptions options;
    bool threads = false;
    CommandLine cli("exitsnoop", "Trace process exits, with their age and exit code or signal.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.add_switch(0, "threads", "report every thread's exit, not only whole processes", &threads);
    cli.set_examples("  exitsnoop                 trace process exits\n"
                     "  exitsnoop -x              only exits with a non-zero code or a signal\n"
                     "  exitsnoop -p 181 -T       process 181 only, with times\n"
                     "  exitsnoop --threads       every thread's exit\n"
                     "  exitsnoop -o json -d 60   a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.tid) threads = true; // a thread filter asks for that thread's exit

    return run_event_tool<exitsnoop_bpf>(
        {.name = "exitsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](exitsnoop_bpf& skel, const AttachPlan&) {
                 skel.rodata->trace_threads = threads;
                 // sched_process_exit(task, group_dead) since 6.16; (task) before.
                 skel.rodata->have_group_dead =
                     KernelFeatures::instance().tracepoint_arg_count("sched_process_exit") >= 2;
             },
         .announcement = threads ? "Tracing thread exits... Hit Ctrl-C to end."
                                 : "Tracing process exits... Hit Ctrl-C to end."},
        Printer{threads});
}

} // namespace corescope::tools
