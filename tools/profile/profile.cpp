// profile: sample on-CPU stacks at a fixed rate, count them per process and
// stack, and print them at the end: the classic multi-line stacks, folded
// stacks for flame graphs (-f), or JSON.
#include "decoder.h"
#include "filters.h"
#include "map_reader.h"
#include "run.h"
#include "stacks.h"
#include "symbolizer.h"
#include "text_file.h"

#include "profile.skel.h"
#include "profile/profile.h"
#include <linux/perf_event.h>
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <set>
#include <time.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

constexpr uint64_t default_frequency = 49; // Hz, off the beat of timers at 50 and 100 Hz
constexpr uint64_t max_frequency = 100000; // the kernel's usual perf_event_max_sample_rate ceiling

struct Settings {
    uint64_t frequency = 0; // -F
    uint64_t period_ns = 0; // --period
    std::optional<int> cpu; // --cpu
    StackOptions stacks;
    bool include_idle = false;
};

bool task_exists(uint32_t id) {
    return kill(static_cast<pid_t>(id), 0) == 0 || errno == EPERM;
}

// A process or thread named with -p or -t must exist now: a sampler cannot
// wait for a PID that has not been given out yet.
void require_tasks(const CommonOptions& options) {
    for (uint32_t pid : options.pids)
        if (!task_exists(pid))
            throw UsageError("invalid PID '" + std::to_string(pid) + "': no such process");
    if (options.tid && !task_exists(*options.tid))
        throw UsageError("invalid TID '" + std::to_string(*options.tid) + "': no such thread");
}

int parse_cpu(std::string_view text) {
    int cpu = static_cast<int>(parse_unsigned("CPU", text, 0, 65535));
    std::vector<int> online = online_cpus();
    if (std::find(online.begin(), online.end(), cpu) == online.end())
        throw UsageError("invalid CPU '" + std::string(text) + "': not online");
    return cpu;
}

// The kernel lowers kernel.perf_event_max_sample_rate by itself when
// sampling interrupts take too long; above it, perf_event_open fails.
void require_frequency_allowed(uint64_t frequency) {
    std::string text = read_first_line("/proc/sys/kernel/perf_event_max_sample_rate").value_or("");
    uint64_t max = std::strtoull(text.c_str(), nullptr, 10);
    if (max == 0 || frequency <= max) return;
    throw UsageError("invalid frequency '" + std::to_string(frequency) +
                     "': above this kernel's limit of " + std::to_string(max) +
                     " (kernel.perf_event_max_sample_rate)");
}

std::vector<AttachStep> attach_steps(const Settings& settings) {
    AttachPoint point{"sample", AttachKind::perf_event, "cpu-clock"};
    point.perf_event.type = PERF_TYPE_SOFTWARE;
    point.perf_event.config = PERF_COUNT_SW_CPU_CLOCK;
    point.perf_event.frequency = settings.period_ns ? 0 : settings.frequency;
    point.perf_event.period = settings.period_ns;
    if (settings.cpu) point.perf_event.cpus = {*settings.cpu};
    return {{"timed on-CPU samples", {{{point}}}}};
}

using Entry = MapEntry<profile_key, uint64_t>;

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), stacks_(options, settings.stacks, out,
                                     {json_field("pid"), json_field("comm"), json_field("count")}) {
    }

    // reader: names the stacks; nullptr where there is no stack map (decoders).
    void print(std::vector<Entry> entries, StackReader* reader) {
        std::erase_if(entries, [&](const Entry& e) {
            return e.value == 0 || !comm_matches(fixed_string(e.key.comm), options_.name);
        });
        std::stable_sort(entries.begin(), entries.end(),
                         [](const Entry& a, const Entry& b) { return a.value > b.value; });
        std::vector<StackRecord> records;
        for (const Entry& e : entries) {
            StackRecord record;
            record.pid = e.key.pid;
            record.comm = std::string(fixed_string(e.key.comm));
            if (reader) {
                record.user = reader->user(e.key.pid, e.key.user_stack_id);
                record.kernel = reader->kernel(e.key.kernel_stack_id);
            }
            record.value = e.value;
            records.push_back(std::move(record));
        }
        stacks_.print(records, [](const StackRecord& record, Record& r) {
            r.number(record.pid).text(record.comm).number(record.value);
        });
    }

  private:
    const CommonOptions& options_;
    StackPrinter stacks_;
};

std::string announcement(const CommonOptions& options, const Settings& settings) {
    std::string text = "Sampling at ";
    text += settings.period_ns ? "every " + std::to_string(settings.period_ns) + " ns of CPU time"
                               : std::to_string(settings.frequency) + " Hertz";
    text += options.pids.empty() && !options.tid ? " of all threads" : " of the chosen tasks";
    text += settings.stacks.user_only     ? " by user stack"
            : settings.stacks.kernel_only ? " by kernel stack"
                                          : " by user + kernel stack";
    if (settings.cpu) text += " on CPU " + std::to_string(*settings.cpu);
    if (options.duration) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, " for %g seconds", *options.duration);
        text += seconds;
    }
    return text + "... Hit Ctrl-C to end.";
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counts map's
// entries (key, then the count), their stacks not named (no stack map);
// variant bit 0: -f.
void decode_profile(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.stacks.folded = (variant & 1) != 0 && options.format == OutputFormat::text;
    Printer(options, settings, out).print(recorded_entries<profile_key, uint64_t>(events), nullptr);
}

int profile(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("profile",
                    "Sample on-CPU stacks at a fixed rate and count them per process and stack.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    cli.add_option('F', "frequency", "HZ", "samples a second on each CPU (default 49)",
                   [&](std::string_view v) {
                       settings.frequency = parse_unsigned("frequency", v, 1, max_frequency);
                   });
    cli.add_option(0, "period", "NS", "one sample every NS nanoseconds of CPU time instead of -F",
                   [&](std::string_view v) {
                       settings.period_ns = parse_unsigned("period", v, 10000, 1000000000000ULL);
                   });
    cli.add_option(0, "cpu", "N", "only samples on CPU N",
                   [&](std::string_view v) { settings.cpu = parse_cpu(v); });
    add_stack_options(cli, settings.stacks);
    cli.add_switch('I', "include-idle", "include the idle task (PID 0)", &settings.include_idle);
    cli.set_examples("  profile -d 10                   all CPUs for 10 seconds, at 49 Hz\n"
                     "  profile -F 99 -p 181            process 181 at 99 Hz, until Ctrl-C\n"
                     "  profile -f -d 30 > out.folded   folded stacks for flamegraph.pl\n"
                     "  profile --kernel-stacks-only    kernel stacks only\n"
                     "  profile --cpu 2 -I              CPU 2, idle included\n"
                     "  profile -o json -d 5 -p 181     JSON Lines, one object a stack");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    check_stack_options(settings.stacks, options);
    if (settings.frequency && settings.period_ns)
        throw UsageError("-F and --period exclude each other");
    if (!settings.frequency && !settings.period_ns) settings.frequency = default_frequency;
    if (settings.frequency) require_frequency_allowed(settings.frequency);
    require_tasks(options);

    return run_summary_tool<profile_bpf>(
        {.name = "profile",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings); },
         .configure =
             [&](profile_bpf& skel, const AttachPlan&) {
                 skel.rodata->include_idle = settings.include_idle;
                 skel.rodata->user_stacks = !settings.stacks.kernel_only;
                 skel.rodata->kernel_stacks = !settings.stacks.user_only;
                 configure_stack_map(skel.maps.stack_traces, settings.stacks);
                 set_map_entries(skel.maps.counts, settings.stacks.storage_size);
             },
         .announcement = announcement(options, settings),
         .detach_before_summary = true},
        [&](profile_bpf& skel, const AttachPlan&, Output& out) {
            return StackSummary<profile_key, uint64_t, Printer>(
                skel.maps.counts, 0, skel.maps.stack_traces, Printer(options, settings, out),
                [&](Symbolizer& symbolizer) {
                    if (!settings.stacks.user_only) warn_if_kernel_names_hidden(symbolizer);
                    report_missed_stacks(skel, settings.stacks.storage_size, options, out);
                    if (skel.bss->samples_dropped)
                        warn("%llu samples dropped (the counts map was full); try a larger "
                             "--stack-storage-size (now %u)",
                             static_cast<unsigned long long>(skel.bss->samples_dropped),
                             settings.stacks.storage_size);
                });
        });
}

} // namespace corescope::tools
