// vfscount: file-system calls (bpf/file_call_family.h) counted by call or by
// process, the most frequent first, every interval or at the end.
#include "decoder.h"
#include "export_collector.h"
#include "file_calls.h"
#include "run.h"
#include "syscall_counts.h"
#include "syscall_names.h"

#include "vfscount.skel.h"

#include <unistd.h>

namespace corescope::tools {

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval (recorded_syscall_count_rows); variant bit 0: -P.
void decode_vfscount(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    SyscallCountSettings settings;
    settings.by_process = (variant & 1) != 0;
    SyscallCountPrinter(options, settings, out)
        .print(recorded_syscall_count_rows(events, settings.by_process));
}

int vfscount(int argc, char** argv) {
    CommonOptions options;
    SyscallCountSettings settings;
    CommandLine cli("vfscount",
                    "Count file-system calls (read, write, fsync, open, create, unlink, mkdir, "
                    "rmdir, rename, stat families) by call or by process.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval, Flag::prometheus});
    bool top_given = false;
    cli.add_switch('P', "process", "count by process instead of by call", &settings.by_process);
    cli.add_option(0, "top", "N", "print the N most frequent (default 10; 0 for all)",
                   [&](std::string_view v) {
                       settings.top = parse_unsigned("--top", v, 0, 100000);
                       top_given = true;
                   });
    cli.set_examples("  vfscount                   count file calls until Ctrl-C, top 10\n"
                     "  vfscount 1                 every second\n"
                     "  vfscount -P --top 20       the 20 processes making the most\n"
                     "  vfscount -p 181 --top 0    every file call of process 181\n"
                     "  vfscount -o json 10        JSON Lines every 10 seconds\n"
                     "  vfscount -o prometheus -d 60   calls by name for Prometheus\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus && (settings.by_process || top_given))
        throw UsageError("-o prometheus counts every file-system call by name: -P and --top do "
                         "not apply");

    ToolSpec<vfscount_bpf> spec{
        .name = "vfscount",
        .options = options,
        .attach_steps = [] { return syscall_count_attach_steps(false); },
        .configure =
            [&](vfscount_bpf& skel, const AttachPlan&) {
                fill_file_call_families(skel.rodata->file_call_family);
                configure_syscall_counts(skel, settings, static_cast<uint32_t>(getpid()));
            },
        .announcement = options.interval
                            ? "Counting file-system calls, printing every " +
                                  std::to_string(*options.interval) + " s... Hit Ctrl-C to end."
                            : "Counting file-system calls... Hit Ctrl-C to end."};
    if (prometheus)
        // The name and label of syscount's figure in corescope export: the
        // same calls, those of the file-system families only.
        return print_prometheus(spec, [](vfscount_bpf& skel, Exposition& out) {
            MetricFamily& calls = out.family(
                "corescope_syscalls", MetricType::counter,
                "File-system system calls that returned, by name (a series appears with the first "
                "call), from vfscount; its own are left out.");
            auto add = [](syscall_counts& into, const syscall_counts& from) {
                into.count += from.count;
            };
            for (const auto& e : read_percpu_map<uint32_t, syscall_counts>(skel.maps.by_nr, add)) {
                if (e.key >= SYSCALL_COUNTS_MAX_NR || e.value.count == 0) continue;
                std::string_view name = syscall_name(e.key);
                calls.add({{"syscall", name.empty() ? std::to_string(e.key) : std::string(name)}},
                          static_cast<double>(e.value.count));
            }
        });
    return run_summary_tool<vfscount_bpf>(
        spec, [&](vfscount_bpf& skel, const AttachPlan&, Output& out) {
            return SyscallCountSummary{
                SyscallCountPrinter(options, settings, out),
                SyscallCountReader(skel.maps.by_nr, skel.maps.by_pid, settings.by_process)};
        });
}

} // namespace corescope::tools
