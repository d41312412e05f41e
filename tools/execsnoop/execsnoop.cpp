// execsnoop: trace new processes (execve and execveat), with their arguments.
#include "decoder.h"
#include "export_collector.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "execsnoop/execsnoop.h"
#include "execsnoop.skel.h"

namespace corescope::tools {

namespace {

struct Settings {
    uint32_t max_args = 20;
    uint32_t args_size = 4096;
    std::string line_filter; // --line TEXT
};

struct Printer {
    const Settings& settings;

    RecordLayout layout() const {
        return {task_time | task_pid | task_uid | task_comm,
                {comm_column("PCOMM"), pid_column(), column("ppid", "PPID", 7),
                 column("ret", "RET", 2, Align::right), column("args", "ARGS", 0),
                 json_field("args_truncated")}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<execsnoop_event>(data, size, offsetof(execsnoop_event, args));
        if (!e) return;
        size_t len =
            std::min<size_t>({e->args_len, size - offsetof(execsnoop_event, args), sizeof e->args});
        bool cut = false;
        std::vector<std::string_view> args =
            split_nul_separated(e->args, len, settings.max_args, cut);
        bool truncated = cut || e->args_truncated;
        if (!settings.line_filter.empty()) {
            std::string line;
            for (std::string_view a : args)
                line.append(a).append(" ");
            if (line.find(settings.line_filter) == std::string::npos) return;
        }
        Record r = records.begin(task_of(*e));
        r.number(e->ppid).number(e->ret).strings(args, truncated ? "..." : "").boolean(truncated);
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("exec system calls", {{"execve"}, {"execveat", true, true, true}})};
}

} // namespace

// corescope export: exec calls and failed exec calls, counted in the kernel
// (counts_only: no events, the smallest event buffer).
std::unique_ptr<ExportCollector> export_execsnoop(const CommonOptions& options) {
    return export_collector<execsnoop_bpf>(
        {.name = "execsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .events = {.ring_bytes = 4096, .wakeup_bytes = 0, .perf_pages_per_cpu = 1},
         .configure = [](execsnoop_bpf& skel,
                         const AttachPlan&) { skel.rodata->counts_only = true; }},
        [](execsnoop_bpf& skel, Exposition& out) {
            uint64_t calls = __atomic_load_n(&skel.bss->exec_counts.calls, __ATOMIC_RELAXED);
            uint64_t failed = __atomic_load_n(&skel.bss->exec_counts.failed, __ATOMIC_RELAXED);
            out.family("corescope_execs", MetricType::counter,
                       "execve() and execveat() calls that returned, failed or not, from "
                       "execsnoop.")
                .add({}, static_cast<double>(calls));
            out.family("corescope_exec_failures", MetricType::counter,
                       "execve() and execveat() calls that failed, from execsnoop.")
                .add({}, static_cast<double>(failed));
        });
}

// For tests/golden and tests/fuzz (common/decoder.h); variant bits: --max-args 3, --line a.
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
    CommandLine cli("execsnoop",
                    "Trace new processes: execve() and execveat() with their arguments.",
                    {Flag::pid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed, Flag::time,
                     Flag::print_uid, Flag::duration, Flag::prometheus});
    cli.add_text('l', "line", "TEXT", "only execs whose argument line contains TEXT",
                 &settings.line_filter);
    cli.add_number(0, "max-args", "N", "show at most N arguments (default 20)", &settings.max_args,
                   1, 4096);
    cli.add_number(0, "args-size", "BYTES",
                   "read at most BYTES of arguments per exec (default 4096, at most " +
                       std::to_string(EXECSNOOP_ARGS_SIZE_MAX) + ")",
                   &settings.args_size, 16, EXECSNOOP_ARGS_SIZE_MAX);
    cli.set_examples("  execsnoop                  trace all execs\n"
                     "  execsnoop -x               only failed execs\n"
                     "  execsnoop -T -U            with time and UID columns\n"
                     "  execsnoop -n sh            commands whose name contains 'sh'\n"
                     "  execsnoop -l --verbose     argument lines containing '--verbose'\n"
                     "  execsnoop -c /sys/fs/cgroup/system.slice/foo.service\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus) {
        if (!settings.line_filter.empty() || options.failed)
            throw UsageError("-o prometheus counts every exec and the failed ones: --line and "
                             "-x do not apply");
        return print_expositions(export_execsnoop(options), options);
    }

    return run_event_tool<execsnoop_bpf>(
        {.name = "execsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure = [&](execsnoop_bpf& skel,
                          const AttachPlan&) { skel.rodata->args_size = settings.args_size; },
         .announcement = "Tracing exec system calls... Hit Ctrl-C to end."},
        Printer{settings});
}

} // namespace corescope::tools
