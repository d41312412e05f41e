// llcstat: last-level cache references and misses by process (or thread)
// and CPU, with the hit ratio, from sampled hardware counters; every
// interval or at the end.
#include "decoder.h"
#include "errors.h"
#include "filters.h"
#include "map_reader.h"
#include "output.h"
#include "run.h"
#include "table_printer.h"

#include <linux/types.h>
#include "llcstat.skel.h"
#include "llcstat/llcstat.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/perf_event.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Settings {
    uint64_t sample_period = 100; // --sample-period (the classic -c)
    bool per_thread = false;      // --per-thread (the classic -t)
};

using Entry = MapEntry<llcstat_key, llcstat_value>;

// Hits in per cent of references, to two decimals' worth; 0 of none.
double hit_percent(uint64_t references, uint64_t misses) {
    if (!references || misses >= references) return 0;
    return 100.0 * static_cast<double>(references - misses) / static_cast<double>(references);
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings), out_(out),
          table_(options, out, row_layout(settings), table_layout()) {}

    void print(std::vector<Entry> entries) {
        std::erase_if(entries, [&](const Entry& e) {
            return !comm_matches(fixed_string(e.key.comm), options_.name);
        });
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            if (a.value.references != b.value.references)
                return a.value.references > b.value.references;
            return std::tie(a.key.pid, a.key.tid, a.key.cpu) <
                   std::tie(b.key.pid, b.key.tid, b.key.cpu);
        });
        uint64_t references = 0, misses = 0;
        table_.begin();
        for (const Entry& e : entries) {
            references += e.value.references;
            misses += e.value.misses;
            table_.row()
                .number(e.key.pid)
                .number(e.key.tid)
                .text(fixed_string(e.key.comm))
                .number(e.key.cpu)
                .number(e.value.references)
                .number(e.value.misses)
                .real(hit_percent(e.value.references, e.value.misses))
                .end();
        }
        if (!table_.json()) {
            char line[160];
            std::snprintf(line, sizeof line,
                          "Total References: %llu Total Misses: %llu Hit Rate: %.2f%%\n",
                          static_cast<unsigned long long>(references),
                          static_cast<unsigned long long>(misses), hit_percent(references, misses));
            out_.buffer() += line;
            out_.end_record();
        }
        table_.end([&](Record& t) {
            t.text(iso_time_now())
                .number(settings_.sample_period)
                .number(references)
                .number(misses)
                .real(hit_percent(references, misses));
        });
    }

  private:
    static RecordLayout row_layout(const Settings& settings) {
        return {0,
                {column("pid", "PID", 7), shown_if(settings.per_thread, column("tid", "TID", 7)),
                 column("comm", "NAME", 16), column("cpu", "CPU", 4, Align::right),
                 column("references", "REFERENCE", 12, Align::right),
                 column("misses", "MISS", 12, Align::right),
                 with_decimals(2, column("hit_pct", "HIT%", 7, Align::right))}};
    }
    static RecordLayout table_layout() {
        return {0,
                {json_field("time"), json_field("sample_period"), json_field("references"),
                 json_field("misses"), with_decimals(2, json_field("hit_pct"))}};
    }

    const CommonOptions& options_;
    const Settings& settings_;
    Output& out_;
    TablePrinter table_;
};

// Why this machine cannot count cache misses, in one line, or empty when it
// can: the counter opened on the first online CPU.
std::string hardware_counters_missing() {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_CACHE_MISSES;
    attr.disabled = 1;
    std::vector<int> cpus = online_cpus();
    int fd = static_cast<int>(
        syscall(SYS_perf_event_open, &attr, -1, cpus.empty() ? 0 : cpus.front(), -1, 0));
    if (fd >= 0) {
        close(fd);
        return {};
    }
    int err = errno;
    std::string why = "no hardware cache counters here: perf_event_open(PERF_TYPE_HARDWARE, "
                      "PERF_COUNT_HW_CACHE_MISSES) fails with " +
                      std::string(std::strerror(err));
    if (access("/sys/bus/event_source/devices/cpu", F_OK) != 0)
        why += " (no CPU PMU in /sys/bus/event_source/devices: a virtual machine without a "
               "virtual PMU)";
    return why;
}

std::vector<AttachStep> attach_steps(const Settings& settings) {
    std::string missing = hardware_counters_missing();
    if (!missing.empty()) throw RuntimeError(missing);
    AttachPoint references{"on_reference", AttachKind::perf_event, "cache-references"};
    references.perf_event.type = PERF_TYPE_HARDWARE;
    references.perf_event.config = PERF_COUNT_HW_CACHE_REFERENCES;
    references.perf_event.period = settings.sample_period;
    AttachPoint misses{"on_miss", AttachKind::perf_event, "cache-misses"};
    misses.perf_event.type = PERF_TYPE_HARDWARE;
    misses.perf_event.config = PERF_COUNT_HW_CACHE_MISSES;
    misses.perf_event.period = settings.sample_period;
    return {{"last-level cache references and misses", {{{references, misses}}}}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the counts map's
// entries (key, then value) of one interval; variant bit 0: --per-thread.
void decode_llcstat(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_thread = (variant & 1) != 0;
    Printer(options, settings, out).print(recorded_entries<llcstat_key, llcstat_value>(events));
}

int llcstat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("llcstat",
                    "Last-level cache references and misses by process and CPU, from sampled "
                    "hardware counters.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::duration, Flag::interval});
    cli.add_number(0, "sample-period", "EVENTS",
                   "one sample every EVENTS references or misses (default 100; the classic -c)",
                   &settings.sample_period, 1, 1000000000);
    cli.add_switch(0, "per-thread", "a row per thread (the classic -t)", &settings.per_thread);
    cli.set_examples("  llcstat -d 5              five seconds, by process and CPU\n"
                     "  llcstat 1 10              ten 1-second tables\n"
                     "  llcstat --sample-period 1000 --per-thread\n"
                     "                            coarser samples, a row per thread\n"
                     "  llcstat -o json -d 5      a JSON Lines record\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_summary_tool<llcstat_bpf>(
        {.name = "llcstat",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings); },
         .configure = [&](llcstat_bpf& skel,
                          const AttachPlan&) { skel.rodata->per_thread = settings.per_thread; },
         .announcement =
             interval_announcement(options, "Tracing last-level cache references and misses")},
        [&](llcstat_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out), counts = skel.maps.counts,
                    &skel]() mutable {
                printer.print(take_map<llcstat_key, llcstat_value>(counts, LLCSTAT_MAX_KEYS));
                if (skel.bss->samples_dropped)
                    warn("%llu samples not counted (table of %d rows full)",
                         static_cast<unsigned long long>(skel.bss->samples_dropped),
                         LLCSTAT_MAX_KEYS);
            };
        });
}

} // namespace corescope::tools
