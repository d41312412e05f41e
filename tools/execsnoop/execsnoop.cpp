// execsnoop: trace new processes (execve and execveat), with their arguments.
#include "decoder.h"
#include "event_fields.h"
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
    const Settings& settings;

    RecordLayout layout() const {
        return {task_time | task_pid | task_uid | task_comm,
                {comm_column("PCOMM"), pid_column(), column("ppid", "PPID", 7),
                 column("ret", "RET", 2, Align::right), json_field("args"),
                 json_field("args_truncated"), text_column("ARGS", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<execsnoop_event>(data, size, offsetof(execsnoop_event, args));
        if (!e) return;
        bool truncated = false;
        std::vector<std::string_view> args = split_args(*e, size, settings.max_args, truncated);
        if (!settings.line_filter.empty()) {
            std::string line;
            for (std::string_view a : args) line.append(a).append(" ");
            if (line.find(settings.line_filter) == std::string::npos) return;
        }
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.number(e->ppid)
            .number(e->ret)
            .lazy([&] {
                std::string argv = "[";
                for (size_t i = 0; i < args.size(); i++) {
                    if (i) argv += ',';
                    append_json_string(argv, args[i]);
                }
                return Formatted{argv + ']'};
            })
            .boolean(truncated)
            .lazy([&] {
                std::string line;
                for (size_t i = 0; i < args.size(); i++) {
                    if (i) line += ' ';
                    append_text_escaped(line, args[i]);
                }
                return Formatted{truncated ? line + " ..." : line};
            })
            .end();
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

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: --max-args 3;
// bit 1: --line a.
void decode_execsnoop(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Settings settings;
    if (variant & 1) settings.max_args = 3;
    if (variant & 2) settings.line_filter = "a";
    decode_events(Printer{settings}, options, out, events);
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
        Printer{settings});
}

} // namespace corescope::tools
