// execsnoop: trace new processes (execve and execveat), with their arguments.
#include "clock.h"
#include "columns.h"
#include "decoder.h"
#include "filters.h"
#include "run.h"

#include <linux/types.h>
#include "execsnoop/execsnoop.h"
#include "execsnoop.skel.h"

#include <cstddef>

namespace corescope::tools {

namespace {

struct Settings {
    uint32_t max_args = 20;
    uint32_t args_size = 4096;
    std::string line_filter; // --line TEXT
};

// The NUL-separated argument block, cut at max_args.
std::vector<std::string_view> split_args(const execsnoop_event& e, size_t size, uint32_t max_args,
                                         bool& truncated) {
    size_t room = size - offsetof(execsnoop_event, args);
    size_t len = std::min<size_t>({e.args_len, room, sizeof e.args});
    std::vector<std::string_view> args;
    truncated = e.args_truncated != 0;
    size_t start = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && e.args[end] != '\0') end++;
        if (args.size() == max_args) {
            truncated = true;
            break;
        }
        args.emplace_back(e.args + start, end - start);
        start = end + 1;
    }
    return args;
}

struct Printer {
    const CommonOptions& options;
    const Settings& settings;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        std::string& b = out.buffer();
        append_time_uid_headers(b, options);
        b += "PCOMM            PID     PPID    RET ARGS\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < offsetof(execsnoop_event, args)) return;
        const auto& e = *static_cast<const execsnoop_event*>(data);
        std::string_view comm = fixed_string(e.comm);
        if (!comm_matches(comm, options.name)) return;
        bool truncated = false;
        std::vector<std::string_view> args = split_args(e, size, settings.max_args, truncated);
        if (!settings.line_filter.empty()) {
            std::string line;
            for (std::string_view a : args) line.append(a).append(" ");
            if (line.find(settings.line_filter) == std::string::npos) return;
        }
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e.ts_ns);
            std::string argv = "[";
            for (size_t i = 0; i < args.size(); i++) {
                if (i) argv += ',';
                append_json_string(argv, args[i]);
            }
            argv += ']';
            JsonObject(b).string("time", when).string("comm", comm).unsigned_number("pid", e.pid)
                .unsigned_number("ppid", e.ppid).unsigned_number("uid", e.uid).number("ret", e.ret)
                .raw("args", argv).boolean("args_truncated", truncated).end_line();
        } else {
            append_time_uid_columns(b, options, clock, e.ts_ns, e.uid);
            append_escaped_padded(b, comm, 16);
            b += ' ';
            append_padded(b, std::to_string(e.pid), 7);
            b += ' ';
            append_padded(b, std::to_string(e.ppid), 7);
            append_number(b, e.ret, 3);
            b += ' ';
            for (size_t i = 0; i < args.size(); i++) {
                if (i) b += ' ';
                append_text_escaped(b, args[i]);
            }
            if (truncated) b += " ...";
            b += '\n';
        }
        out.end_record();
    }
};

std::vector<AttachStep> attach_steps() {
    return {{"exec system calls",
             {{{{"tp_enter_execve", AttachKind::tracepoint, "syscalls:sys_enter_execve"},
                {"tp_exit_execve", AttachKind::tracepoint, "syscalls:sys_exit_execve"},
                {"tp_enter_execveat", AttachKind::tracepoint, "syscalls:sys_enter_execveat", true},
                {"tp_exit_execveat", AttachKind::tracepoint, "syscalls:sys_exit_execveat", true}}},
              {{{"raw_enter", AttachKind::raw_tp, "sys_enter"},
                {"raw_exit", AttachKind::raw_tp, "sys_exit"}}}}}};
}

} // namespace

// For tests/fuzz (common/decoder.h): one event through the printer; variant bit 0: --max-args 3;
// bit 1: --line a.
void decode_execsnoop(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                      const void* data, size_t size) {
    Settings settings;
    if (variant & 1) settings.max_args = 3;
    if (variant & 2) settings.line_filter = "a";
    Printer printer{options, settings, out, {}};
    printer.event(data, size);
}

int execsnoop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("execsnoop", "Trace new processes: execve() and execveat() with their arguments.",
                    {Flag::pid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_option('l', "line", "TEXT", "only execs whose argument line contains TEXT",
                   [&](std::string_view v) {
                       if (v.empty()) throw UsageError("invalid line filter '': must not be empty");
                       settings.line_filter = std::string(v);
                   });
    cli.add_option(0, "max-args", "N", "show at most N arguments (default 20)", [&](std::string_view v) {
        settings.max_args = static_cast<uint32_t>(parse_unsigned("--max-args", v, 1, 4096));
    });
    cli.add_option(0, "args-size", "BYTES",
                   "read at most BYTES of arguments per exec (default 4096, at most " +
                       std::to_string(EXECSNOOP_ARGS_SIZE_MAX) + ")",
                   [&](std::string_view v) {
                       settings.args_size = static_cast<uint32_t>(
                           parse_unsigned("--args-size", v, 16, EXECSNOOP_ARGS_SIZE_MAX));
                   });
    cli.set_examples("  execsnoop                  trace all execs\n"
                     "  execsnoop -x               only failed execs\n"
                     "  execsnoop -T -U            with time and UID columns\n"
                     "  execsnoop -n sh            commands whose name contains 'sh'\n"
                     "  execsnoop -l --verbose     argument lines containing '--verbose'\n"
                     "  execsnoop -c /sys/fs/cgroup/system.slice/foo.service\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<execsnoop_bpf>(
        {.name = "execsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](execsnoop_bpf& skel, const AttachPlan&) {
                 skel.rodata->failed_only = options.failed;
                 skel.rodata->args_size = settings.args_size;
             },
         .announcement = "Tracing exec system calls... Hit Ctrl-C to end."},
        [&](Output& out) {
            return Printer{options, settings, out, {}};
        });
}

} // namespace corescope::tools
