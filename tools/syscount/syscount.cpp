// syscount: count system calls by name or by process, with the time spent in them.
#include "decoder.h"
#include "run.h"
#include "syscall_counts.h"
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

int syscount(int argc, char** argv) {
    CommonOptions options;
    SyscallCountSettings settings;
    bool list = false;
    CommandLine cli("syscount",
                    "Count system calls by name or by process, optionally with their latency.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::failed, Flag::time,
                     Flag::duration, Flag::milliseconds, Flag::interval});
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
