// syscount: count system calls by name or by process, with the time spent in them.
#include "decoder.h"
#include "run.h"
#include "syscall_counts.h"
#include "export_collector.h"
#include "syscall_names.h"

#include "syscount.skel.h"

#include <cstdio>
#include <unistd.h>

namespace corescope::tools {

namespace {

void list_syscalls() {
    std::string text;
    for (uint32_t nr = 0; nr < syscall_table_size(); nr++) {
        std::string_view name = syscall_name(nr);
        if (name.empty()) continue;
        text += std::to_string(nr) + ' ';
        text += name;
        text += '\n';
    }
    fputs(text.c_str(), stdout);
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval (recorded_syscall_count_rows); variant bit 0: -P, bit 1: -L.
void decode_syscount(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    SyscallCountSettings settings;
    settings.by_process = (variant & 1) != 0;
    settings.latency = (variant & 2) != 0;
    SyscallCountPrinter(options, settings, out)
        .print(recorded_syscall_count_rows(events, settings.by_process));
}

// corescope export (opt-in: it runs on every system call): calls by system
// call and the time in them, from the per-CPU counters syscount keeps
// (cumulative: nothing to switch off), the exporter's own calls left out.
std::unique_ptr<ExportCollector> export_syscount(const CommonOptions& options) {
    SyscallCountSettings settings;
    settings.latency = true;
    return export_collector<syscount_bpf>(
        {.name = "syscount",
         .options = options,
         .attach_steps = [] { return syscall_count_attach_steps(true); },
         .configure =
             [settings](syscount_bpf& skel, const AttachPlan&) {
                 configure_syscall_counts(skel, settings, static_cast<uint32_t>(getpid()));
             }},
        [](syscount_bpf& skel, Exposition& out) {
            MetricFamily& calls =
                out.family("corescope_syscalls", MetricType::counter,
                           "System calls that returned, by name (a series appears with the "
                           "first call), from syscount; the exporter's own are left out.");
            MetricFamily& time = out.family(
                "corescope_syscall_time_seconds", MetricType::counter,
                "Time spent in system calls, from entry to return, by name, from syscount.",
                "seconds");
            auto add = [](syscall_counts& into, const syscall_counts& from) {
                into.count += from.count;
                into.total_ns += from.total_ns;
            };
            for (const auto& e : read_percpu_map<uint32_t, syscall_counts>(skel.maps.by_nr, add)) {
                if (e.key >= SYSCALL_COUNTS_MAX_NR || e.value.count == 0) continue;
                std::string_view name = syscall_name(e.key);
                Labels labels{
                    {"syscall", name.empty() ? std::to_string(e.key) : std::string(name)}};
                calls.add(labels, static_cast<double>(e.value.count));
                time.add(labels, static_cast<double>(e.value.total_ns) * 1e-9);
            }
        });
}

int syscount(int argc, char** argv) {
    CommonOptions options;
    SyscallCountSettings settings;
    bool list = false;
    CommandLine cli("syscount",
                    "Count system calls by name or by process, optionally with their latency.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::failed, Flag::time,
                     Flag::duration, Flag::milliseconds, Flag::interval, Flag::prometheus});
    cli.add_switch('P', "process", "count by process instead of by system call",
                   &settings.by_process);
    cli.add_switch('L', "latency", "also measure the time spent in the calls (total and average)",
                   &settings.latency);
    cli.add_option(
        0, "top", "N", "print the N most frequent (default 10; 0 for all)",
        [&](std::string_view v) { settings.top = parse_unsigned("--top", v, 0, 100000); });
    cli.add_option('e', "errno", "ERRNO",
                   "only calls that failed with ERRNO (a name like ENOENT, or a number)",
                   [&](std::string_view v) { settings.errno_value = parse_errno("errno", v); });
    cli.add_switch('l', "list", "list the system calls this tool knows by name, and exit", &list);
    cli.set_examples("  syscount                   count system calls until Ctrl-C, top 10\n"
                     "  syscount 1                 every second\n"
                     "  syscount -L -m 5 3         with time spent (ms), three 5-second intervals\n"
                     "  syscount -P --top 20       the 20 busiest processes\n"
                     "  syscount -x -p 181         failed calls of process 181\n"
                     "  syscount -e ENOENT         calls that failed with ENOENT\n"
                     "  syscount -o json 10        JSON Lines every 10 seconds\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus) {
        if (settings.by_process || settings.errno_value || options.failed || options.milliseconds)
            throw UsageError("-o prometheus counts every system call by name, with its time in "
                             "seconds: -P, -e, -x and -m do not apply");
        return print_expositions(export_syscount(options), options);
    }
    if (list) {
        list_syscalls();
        return exit_ok;
    }

    return run_summary_tool<syscount_bpf>(
        {.name = "syscount",
         .options = options,
         .attach_steps = [&] { return syscall_count_attach_steps(settings.latency); },
         .configure =
             [&](syscount_bpf& skel, const AttachPlan&) {
                 configure_syscall_counts(skel, settings, static_cast<uint32_t>(getpid()));
             },
         .announcement = interval_announcement(options, "Tracing system calls")},
        [&](syscount_bpf& skel, const AttachPlan&, Output& out) {
            return SyscallCountSummary{
                SyscallCountPrinter(options, settings, out),
                SyscallCountReader(skel.maps.by_nr, skel.maps.by_pid, settings.by_process)};
        });
}

} // namespace corescope::tools
