// klockstat: kernel lock contention, from lock:contention_begin to
// lock:contention_end: per lock, kind of lock and kernel stack (and thread,
// with --per-thread) how often threads waited, for how long in all, at
// most and on average; every interval or at the end.
#include "clock.h"
#include "decoder.h"
#include "map_reader.h"
#include "run.h"
#include "stacks.h"

#include <linux/types.h>
#include "klockstat.skel.h"
#include "klockstat/klockstat.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace corescope::tools {

namespace {

enum class SortBy { max, total, count };

struct Settings {
    StackOptions stacks;        // only --stack-storage-size: kernel stacks alone
    bool per_thread = false;    // -P: a row per thread
    bool reset = false;         // -R: each interval its own waits
    std::string caller;         // --caller PREFIX (the classic -c)
    uint64_t lock = 0;          // -L: one lock's address; 0 for all
    uint64_t locks = 0;         // --locks N (the classic -n): the top N; 0 for all
    uint32_t stack_entries = 1; // -s: frames printed per row in text, from the caller out
    SortBy sort = SortBy::max;  // -S
};

using Total = MapEntry<klockstat_key, klockstat_value>;

// Frames of the locking primitives themselves: the caller is the first
// frame that is none of them.
bool lock_primitive(std::string_view name) {
    static constexpr std::array<std::string_view, 24> prefixes = {
        "mutex_lock",     "__mutex_lock",   "mutex_trylock", "ww_mutex_lock", "__ww_mutex",
        "down_",          "__down_",        "rwsem_",        "__rwsem_",      "percpu_down_",
        "__percpu_down_", "percpu_rwsem_",  "_raw_spin_",    "_raw_read_",    "_raw_write_",
        "queued_",        "native_queued_", "__pv_queued_",  "do_raw_",       "rt_mutex_",
        "__rt_mutex_",    "rt_spin_",       "rwbase_",       "osq_lock"};
    for (std::string_view p : prefixes)
        if (name.starts_with(p)) return true;
    return name == "down" || name == "mutex_lock_nested";
}

// The index of the caller's frame in a stack (probe frames already
// dropped), or frames.size() when every frame is a primitive.
size_t caller_index(const ResolvedStack& stack) {
    for (size_t i = 0; i < stack.frames.size(); i++)
        if (!lock_primitive(stack.frames[i].symbol.name)) return i;
    return stack.frames.size();
}

std::string caller_of(const ResolvedStack& stack) {
    size_t i = caller_index(stack);
    return i < stack.frames.size() ? frame_label(stack.frames[i]) : std::string();
}

// The kind of lock and how it was taken, from contention_begin's flags.
std::string lock_type(uint32_t flags) {
    bool read = flags & KLOCKSTAT_F_READ, write = flags & KLOCKSTAT_F_WRITE;
    std::string rw = read ? "-read" : write ? "-write" : "";
    if (flags & KLOCKSTAT_F_MUTEX) return flags & KLOCKSTAT_F_RT ? "rt-mutex" : "mutex";
    if (flags & KLOCKSTAT_F_PERCPU) return "percpu-rwsem" + rw;
    if (flags & KLOCKSTAT_F_SPIN) return (read || write) ? "rwlock" + rw : "spinlock";
    if (read || write) return "rwsem" + rw;
    if (flags & KLOCKSTAT_F_RT) return "rt-mutex";
    if (flags == 0) return "semaphore";
    char b[24];
    std::snprintf(b, sizeof b, "flags=0x%x", flags);
    return b;
}

std::string hex_address(uint64_t address) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(address));
    return b;
}

uint64_t sort_value(const klockstat_value& v, SortBy sort) {
    switch (sort) {
    case SortBy::total:
        return v.total_ns;
    case SortBy::count:
        return v.count;
    case SortBy::max:
        break;
    }
    return v.max_ns;
}

SortBy parse_sort(std::string_view text) {
    // The classic tool takes a comma-separated pair (acq_*,hld_*).
    std::string_view first = text.substr(0, text.find(','));
    if (first == "acq_max") return SortBy::max;
    if (first == "acq_total") return SortBy::total;
    if (first == "acq_count") return SortBy::count;
    if (first.starts_with("hld_"))
        throw UsageError("invalid sort field '" + std::string(text) +
                         "': hold times are not measured (no lock:contention_* event "
                         "marks a release); sort by acq_max, acq_total or acq_count");
    throw UsageError("invalid sort field '" + std::string(text) +
                     "': acq_max, acq_total or acq_count");
}

// -L takes an address (0x hex) or a name in /proc/kallsyms: a lock's name is
// there only with CONFIG_KALLSYMS_ALL.
uint64_t parse_lock(std::string_view text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        std::string digits(text.substr(2));
        char* end = nullptr;
        unsigned long long value = std::strtoull(digits.c_str(), &end, 16);
        if (digits.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos && end &&
            *end == '\0' && value != 0)
            return value;
        throw UsageError("invalid lock '" + std::string(text) + "': not an address (0xffff...)");
    }
    if (uint64_t address = kernel_symbol_address(text)) return address;
    throw UsageError("invalid lock '" + std::string(text) +
                     "': no such symbol with an address in /proc/kallsyms (locks are named there "
                     "only with CONFIG_KALLSYMS_ALL): give its address, 0x...");
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings), out_(out),
          stacks_(options, settings.stacks, out,
                  {json_field("lock"), json_field("lock_type"), json_field("flags"),
                   json_field("caller"), json_field("pid"), json_field("tid"), json_field("comm"),
                   json_field("count"), json_field("total_ns"), json_field("max_ns"),
                   json_field("avg_ns")}) {}

    // reader: names the stacks; nullptr where there is no stack map (decoders).
    void print(std::vector<Total> totals, StackReader* reader) {
        std::vector<StackRecord> records;
        std::vector<const Total*> kept;
        std::vector<StackRecord> all;
        for (const Total& t : totals) {
            StackRecord record;
            record.pid = t.key.pid;
            record.comm = std::string(fixed_string(t.key.comm));
            if (reader) {
                record.kernel = reader->kernel(t.key.kernel_stack_id);
                drop_probe_frames(record.kernel);
            }
            if (!settings_.caller.empty() &&
                !caller_of(record.kernel).starts_with(settings_.caller))
                continue;
            if (settings_.per_thread && !comm_matches(record.comm, options_.name)) continue;
            record.value = sort_value(t.value, settings_.sort);
            all.push_back(std::move(record));
            kept.push_back(&t);
        }
        std::vector<size_t> order(all.size());
        for (size_t i = 0; i < order.size(); i++)
            order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            if (all[a].value != all[b].value) return all[a].value > all[b].value;
            return kept[a]->key.lock_addr < kept[b]->key.lock_addr;
        });
        if (settings_.locks && order.size() > settings_.locks) order.resize(settings_.locks);
        std::vector<const Total*> shown;
        for (size_t i : order) {
            records.push_back(std::move(all[i]));
            shown.push_back(kept[i]);
        }
        auto total_of = [&](const StackRecord& record) -> const Total& {
            return *shown[static_cast<size_t>(&record - records.data())];
        };
        if (options_.format == OutputFormat::text) {
            std::string& text = out_.buffer();
            if (options_.time) {
                append_wall_time(text);
                text += '\n';
            }
            if (settings_.per_thread) text += "PID     TID     COMM             ";
            char line[200];
            std::snprintf(line, sizeof line, "%-40s %-14s %8s %10s %10s %11s %s\n", "CALLER",
                          "TYPE", "COUNT", "AVG WAIT", "MAX WAIT", "TOTAL WAIT", "LOCK");
            text += line;
            out_.end_record();
        }
        stacks_.print(
            records,
            [&](const StackRecord& record, Record& r) {
                const Total& t = total_of(record);
                std::string caller = caller_of(record.kernel);
                r.text(hex_address(t.key.lock_addr))
                    .text(lock_type(t.key.flags))
                    .number(t.key.flags);
                if (caller.empty())
                    r.null();
                else
                    r.text(caller);
                if (settings_.per_thread)
                    r.number(t.key.pid).number(t.key.tid).text(record.comm);
                else
                    r.absent().absent().absent();
                r.number(t.value.count)
                    .number(t.value.total_ns)
                    .number(t.value.max_ns)
                    .number(t.value.count ? t.value.total_ns / t.value.count : 0);
            },
            [&](std::string& out, const StackRecord& record) {
                const Total& t = total_of(record);
                char line[400];
                if (settings_.per_thread) {
                    std::snprintf(line, sizeof line, "%-7u %-7u %-16s ", t.key.pid, t.key.tid,
                                  text_escaped(record.comm).c_str());
                    out += line;
                }
                const ResolvedStack& stack = record.kernel;
                size_t first = caller_index(stack);
                std::string caller;
                if (stack.state == ResolvedStack::State::missed)
                    caller = "[missed kernel stack]";
                else if (first < stack.frames.size())
                    caller = frame_label(stack.frames[first]);
                else
                    caller = "[unknown]";
                std::snprintf(
                    line, sizeof line, "%-40s %-14s %8llu %10s %10s %11s %s\n", caller.c_str(),
                    lock_type(t.key.flags).c_str(), static_cast<unsigned long long>(t.value.count),
                    readable_duration(t.value.count ? t.value.total_ns / t.value.count : 0).c_str(),
                    readable_duration(t.value.max_ns).c_str(),
                    readable_duration(t.value.total_ns).c_str(),
                    hex_address(t.key.lock_addr).c_str());
                out += line;
                for (size_t i = first + 1;
                     i < stack.frames.size() && i < first + settings_.stack_entries; i++) {
                    if (settings_.per_thread) out += "                                 ";
                    out += frame_label(stack.frames[i]);
                    out += '\n';
                }
            });
    }

  private:
    const CommonOptions& options_;
    const Settings& settings_;
    Output& out_;
    StackPrinter stacks_;
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("lock contention begin and end",
                             {{"contention_begin", "lock:contention_begin"},
                              {"contention_end", "lock:contention_end"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the totals map's
// entries (key, then value), their stacks not named (no stack map);
// variant bit 0: --per-thread, bit 1: sorted by count.
void decode_klockstat(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_thread = (variant & 1) != 0;
    if (variant & 2) settings.sort = SortBy::count;
    Printer(options, settings, out)
        .print(recorded_entries<klockstat_key, klockstat_value>(events), nullptr);
}

int klockstat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("klockstat",
                    "Kernel lock contention: waits per lock and kernel stack, from the "
                    "lock:contention_begin and contention_end tracepoints.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::duration, Flag::interval, Flag::interval_flag});
    add_stack_storage_option(cli, settings.stacks.storage_size);
    cli.allow_svg();
    cli.add_switch('P', "per-thread", "a row per thread that waited (and its process, its name)",
                   &settings.per_thread);
    cli.add_switch('R', "reset", "each interval shows only its own waits", &settings.reset);
    cli.add_option(0, "caller", "PREFIX",
                   "only rows whose caller (first frame past the lock functions) starts with "
                   "PREFIX (the classic -c)",
                   [&](std::string_view v) {
                       if (v.empty()) throw UsageError("--caller: empty prefix");
                       settings.caller = std::string(v);
                   });
    cli.add_option('L', "lock", "ADDR", "only this lock: its address (0x...), or its symbol",
                   [&](std::string_view v) { settings.lock = parse_lock(v); });
    cli.add_number(0, "locks", "N", "only the top N rows (the classic -n)", &settings.locks, 1,
                   1000000);
    cli.add_number('s', "stacks", "N", "frames printed per row in text, from the caller out",
                   &settings.stack_entries, 1, max_stack_depth);
    cli.add_option('S', "sort", "FIELD", "order by acq_max (the default), acq_total or acq_count",
                   [&](std::string_view v) { settings.sort = parse_sort(v); });
    cli.set_examples("  klockstat                 until Ctrl-C, the longest waits last\n"
                     "  klockstat -d 5            for five seconds\n"
                     "  klockstat 5               every five seconds\n"
                     "  klockstat -p 181          waits of process 181 only\n"
                     "  klockstat --caller pipe_  callers whose name starts with pipe_\n"
                     "  klockstat -S acq_count    the most frequent waits last\n"
                     "  klockstat --locks 3 -s 6  the top three, six frames each\n"
                     "  klockstat -P              a row per thread\n"
                     "  klockstat -o json -d 5    a JSON Lines record per row\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    settings.stacks.count_name = settings.sort == SortBy::count ? "acquisitions" : "ns";
    if (!options.name.empty() && !settings.per_thread)
        throw UsageError("-n needs -P (--per-thread): rows name a thread only per thread");

    return run_summary_tool<klockstat_bpf>(
        {.name = "klockstat",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](klockstat_bpf& skel, const AttachPlan&) {
                 skel.rodata->per_thread = settings.per_thread;
                 skel.rodata->only_lock = settings.lock;
                 configure_stack_map(skel.maps.stack_traces, settings.stacks);
             },
         .announcement = interval_announcement(options, "Tracing kernel lock contention")},
        [&](klockstat_bpf& skel, const AttachPlan&, Output& out) {
            return StackSummary<klockstat_key, klockstat_value, Printer>(
                skel.maps.totals, KLOCKSTAT_MAX_KEYS, skel.maps.stack_traces,
                Printer(options, settings, out),
                [&](Symbolizer&) {
                    report_missed_stacks(skel.bss->stack_id_collisions,
                                         skel.bss->stack_id_no_memory, settings.stacks.storage_size,
                                         options, out);
                    if (skel.bss->waits_dropped)
                        warn("%llu waits not counted (table of %d rows full)",
                             static_cast<unsigned long long>(skel.bss->waits_dropped),
                             KLOCKSTAT_MAX_KEYS);
                },
                // Kernel stacks only: no process's mappings to read.
                {.remember = [](StackCollector&, const klockstat_key&) {},
                 .take_each_print = settings.reset});
        });
}

} // namespace corescope::tools
