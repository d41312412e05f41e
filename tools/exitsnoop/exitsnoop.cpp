// exitsnoop: trace process (and thread) exits, with their age and exit status.
#include "clock.h"
#include "columns.h"
#include "decoder.h"
#include "filters.h"
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
    const CommonOptions& options;
    bool threads;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        std::string& b = out.buffer();
        append_time_uid_headers(b, options);
        b += "PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < sizeof(exitsnoop_event)) return;
        exitsnoop_event e;
        std::memcpy(&e, data, sizeof e);
        std::string_view comm = fixed_string(e.comm);
        if (!comm_matches(comm, options.name)) return;
        double age = e.ts_ns > e.start_ns ? static_cast<double>(e.ts_ns - e.start_ns) / 1e9 : 0.0;
        ExitStatus status = decode(e.exit_code);
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e.ts_ns);
            JsonObject j(b);
            j.string("time", when)
                .string("comm", comm)
                .unsigned_number("pid", e.pid)
                .unsigned_number("ppid", e.ppid)
                .unsigned_number("tid", e.tid)
                .unsigned_number("uid", e.uid)
                .real("age_s", age, 3);
            if (status.signal) {
                j.null("exit_code")
                    .number("signal", status.signal)
                    .string("signal_name", signal_name(status.signal));
            } else {
                j.number("exit_code", status.code).null("signal").null("signal_name");
            }
            j.boolean("core_dumped", status.core).unsigned_number("status", e.exit_code);
            if (threads) j.boolean("process_exit", e.thread == 0);
            j.end_line();
        } else {
            append_time_uid_columns(b, options, clock, e.ts_ns, e.uid);
            append_escaped_padded(b, comm, 16);
            b += ' ';
            append_padded(b, std::to_string(e.pid), 7);
            b += ' ';
            append_padded(b, std::to_string(e.ppid), 7);
            b += ' ';
            append_padded(b, std::to_string(e.tid), 7);
            b += ' ';
            char age_text[32];
            snprintf(age_text, sizeof age_text, "%-7.2f", age);
            b += age_text;
            b += ' ';
            b += describe(status);
            b += '\n';
        }
        out.end_record();
    }
};

std::vector<AttachStep> attach_steps() {
    return {{"process exit",
             {{{{"tp_btf_exit", AttachKind::tp_btf, "sched_process_exit"}}},
              {{{"raw_exit", AttachKind::raw_tp, "sched_process_exit"}}},
              {{{"tp_exit", AttachKind::tracepoint, "sched:sched_process_exit"}}}}}};
}

} // namespace

// For tests/fuzz (common/decoder.h): one event through the printer; variant bit 0: --threads.
void decode_exitsnoop(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                      const void* data, size_t size) {
    Printer printer{options, (variant & 1) != 0, out, {}};
    printer.event(data, size);
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
                 skel.rodata->failed_only = options.failed;
                 skel.rodata->trace_threads = threads;
                 // sched_process_exit(task, group_dead) since 6.16; (task) before.
                 skel.rodata->have_group_dead =
                     KernelFeatures::instance().tracepoint_arg_count("sched_process_exit") >= 2;
             },
         .announcement = threads ? "Tracing thread exits... Hit Ctrl-C to end."
                                 : "Tracing process exits... Hit Ctrl-C to end."},
        [&](Output& out) {
            return Printer{options, threads, out, {}};
        });
}

} // namespace corescope::tools
