// klockstat: kernel lock contention, from lock:contention_begin to
// lock:contention_end, and lock hold times, from the return of mutex_lock,
// down_read, down_write and their kin to the matching release (fentry/fexit
// or kprobes, where the kernel has them): per lock, kind of lock and kernel
// stack (and thread, with --per-thread) how often threads waited (held),
// for how long in all, at most and on average; every interval or at the end.
// Each part runs where the kernel offers its hooks; only a run with neither
// fails.
#include "clock.h"
#include "decoder.h"
#include "kernel_locks.h"
#include "map_reader.h"
#include "run.h"
#include "stack_rows.h"
#include "stacks.h"

#include <linux/types.h>
#include "klockstat.skel.h"
#include "klockstat/klockstat.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace corescope::tools {

namespace {

enum class SortBy { max, total, count };

// The attach plan's steps, by name (AttachPlan::has_step).
constexpr const char* wait_step = "lock contention begin and end";
constexpr const char* hold_step = "lock hold times";

struct Settings {
    StackOptions stacks;            // only --stack-storage-size: kernel stacks alone
    bool per_thread = false;        // -P: a row per thread
    bool reset = false;             // -R: each interval its own waits
    std::string caller;             // --caller PREFIX (the classic -c)
    uint64_t lock = 0;              // -L: one lock's address; 0 for all
    uint64_t locks = 0;             // --locks N (the classic -n): the top N; 0 for all
    uint32_t stack_entries = 1;     // -s: frames printed per row in text, from the caller out
    SortBy sort = SortBy::max;      // -S acq_*: the waits' order
    SortBy hold_sort = SortBy::max; // -S hld_*: the holds' order
    bool waits = true;              // waits measured (not --holds-only; the kernel has the hooks)
    bool holds = true;              // hold times measured (not --waits-only; the kernel has them)
};

using Total = MapEntry<klockstat_key, klockstat_value>;

// The BPF side's flags are contention_begin's, which lock_kind names.
static_assert(KLOCKSTAT_F_SPIN == lock_flag_spin && KLOCKSTAT_F_READ == lock_flag_read &&
              KLOCKSTAT_F_WRITE == lock_flag_write && KLOCKSTAT_F_RT == lock_flag_rt &&
              KLOCKSTAT_F_PERCPU == lock_flag_percpu && KLOCKSTAT_F_MUTEX == lock_flag_mutex);

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

// -S: acq_* orders the waits, hld_* the holds; the classic tool takes both
// as a comma-separated pair (acq_count,hld_total).
void parse_sort(std::string_view text, Settings& settings) {
    auto bad = [&] {
        return UsageError("invalid sort field '" + std::string(text) +
                          "': acq_max, acq_total, acq_count, hld_max, hld_total or hld_count, "
                          "or a pair of one acq_ and one hld_ field");
    };
    bool acq = false, hld = false;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = std::min(text.find(',', start), text.size());
        std::string_view field = text.substr(start, comma - start);
        bool hold = field.starts_with("hld_");
        if (!hold && !field.starts_with("acq_")) throw bad();
        if (hold ? hld : acq) throw bad(); // two of one kind
        (hold ? hld : acq) = true;
        std::string_view what = field.substr(4);
        SortBy by = what == "max"     ? SortBy::max
                    : what == "total" ? SortBy::total
                    : what == "count" ? SortBy::count
                                      : throw bad();
        (hold ? settings.hold_sort : settings.sort) = by;
        start = comma + 1;
    }
}

// A table's fields: in text the classic columns (per thread: the PID, TID
// and COMM first), in JSON the keys; one layout, so the two orders differ.
std::vector<Field> lock_fields(bool hold, bool per_thread) {
    return {shown_if(per_thread, text_column("PID", 7)),
            shown_if(per_thread, text_column("TID", 7)),
            shown_if(per_thread, text_column("COMM", 16)),
            json_field("measure"),
            json_field("lock"),
            text_column("CALLER", 40),
            column("lock_type", "TYPE", 14),
            json_field("flags"),
            json_field("caller"),
            shown_if(per_thread, json_field("pid")),
            shown_if(per_thread, json_field("tid")),
            shown_if(per_thread, json_field("comm")),
            column("count", "COUNT", 8, Align::right),
            text_column(hold ? "AVG HOLD" : "AVG WAIT", 10, Align::right),
            text_column(hold ? "MAX HOLD" : "MAX WAIT", 10, Align::right),
            text_column(hold ? "TOTAL HOLD" : "TOTAL WAIT", 11, Align::right),
            json_field("total_ns"),
            json_field("max_ns"),
            json_field("avg_ns"),
            text_column("LOCK", 0)};
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings),
          waits_(options, settings.stacks, out, lock_fields(false, settings.per_thread)),
          holds_(options, settings.stacks, out, lock_fields(true, settings.per_thread)) {}

    // waits and holds: the entries of the totals and hold_totals maps, of
    // the parts measured (settings.waits, settings.holds). reader: names
    // the stacks; nullptr where there is no stack map (decoders).
    void print(const std::vector<Total>& waits, const std::vector<Total>& holds,
               StackReader* reader) {
        if (options_.format == OutputFormat::svg) {
            // One flame graph: of the waits, or of the holds when only they
            // are measured.
            if (settings_.waits)
                print_table(waits, reader, false);
            else
                print_table(holds, reader, true);
            return;
        }
        if (options_.time) {
            std::string now;
            append_wall_time(now);
            waits_.text_heading(now + '\n');
        }
        if (settings_.waits) print_table(waits, reader, false);
        if (settings_.waits && settings_.holds) waits_.text_heading("\n");
        if (settings_.holds) print_table(holds, reader, true);
    }

  private:
    // One table: the waits, or the holds (hold: their columns and order).
    void print_table(const std::vector<Total>& totals, StackReader* reader, bool hold) {
        StackRows<const Total*> rows;
        for (const Total& t : totals) {
            StackRecord record;
            record.pid = t.key.pid;
            record.comm = std::string(fixed_string(t.key.comm));
            if (reader) {
                record.kernel = reader->kernel(t.key.kernel_stack_id);
                drop_probe_frames(record.kernel);
            }
            if (!settings_.caller.empty() &&
                !lock_caller(record.kernel).starts_with(settings_.caller))
                continue;
            if (settings_.per_thread && !comm_matches(record.comm, options_.name)) continue;
            record.value = sort_value(t.value, hold ? settings_.hold_sort : settings_.sort);
            rows.add(std::move(record), &t);
        }
        rows.sort(
            [](const Total* a, const Total* b) { return a->key.lock_addr < b->key.lock_addr; },
            settings_.locks);
        auto fill = [&](const StackRecord& record, Record& r) {
            const klockstat_key& k = rows.of(record)->key;
            const klockstat_value& v = rows.of(record)->value;
            uint64_t avg = v.count ? v.total_ns / v.count : 0;
            std::string caller = lock_caller(record.kernel);
            auto thread = [&] { r.number(k.pid).number(k.tid).text(record.comm); };
            auto duration = [](uint64_t ns) { return [ns] { return readable_duration(ns); }; };
            thread(); // text's columns
            r.text(hold ? "hold" : "wait").text(hex_number(k.lock_addr));
            if (record.kernel.state == ResolvedStack::State::missed)
                r.text("[missed kernel stack]");
            else
                r.text(caller.empty() ? "[unknown]" : caller);
            r.text(lock_kind(k.flags)).number(k.flags);
            caller.empty() ? r.null() : r.text(caller);
            thread(); // JSON's keys
            r.number(v.count)
                .lazy(duration(avg))
                .lazy(duration(v.max_ns))
                .lazy(duration(v.total_ns));
            r.number(v.total_ns).number(v.max_ns).number(avg).text(hex_number(k.lock_addr));
        };
        // -s: the frames past the caller, each on a line of its own.
        auto frames = [&](std::string& out, const StackRecord& record) {
            const ResolvedStack& stack = record.kernel;
            size_t first = lock_caller_index(stack);
            for (size_t i = first + 1;
                 i < stack.frames.size() && i < first + settings_.stack_entries; i++) {
                if (settings_.per_thread) out.append(33, ' ');
                out += frame_label(stack.frames[i]) + '\n';
            }
        };
        (hold ? holds_ : waits_).print(rows.records(), fill, frames);
    }

    const CommonOptions& options_;
    const Settings& settings_;
    StackPrinter waits_, holds_;
};

// The summary: both maps read (or taken, with -R) each print, their stacks
// named, and with -R the stacks they named deleted from the stack map.
class LockSummary {
  public:
    LockSummary(klockstat_bpf& skel, const Settings& settings, Printer printer,
                std::function<void(Symbolizer&)> report)
        : skel_(skel), settings_(settings), printer_(std::move(printer)),
          collector_(skel.maps.stack_traces), report_(std::move(report)) {}

    void print() {
        std::vector<Total> waits = entries(skel_.maps.totals, settings_.waits);
        std::vector<Total> holds = entries(skel_.maps.hold_totals, settings_.holds);
        printer_.print(waits, holds, &collector_.reader());
        if (settings_.reset) {
            collector_.forget_stacks(waits);
            collector_.forget_stacks(holds); // one both named went with the waits'
        }
        report_(collector_.symbolizer());
    }

  private:
    std::vector<Total> entries(const bpf_map* map, bool measured) {
        if (!measured) return {};
        return settings_.reset ? take_map<klockstat_key, klockstat_value>(map, KLOCKSTAT_MAX_KEYS)
                               : read_map<klockstat_key, klockstat_value>(map, KLOCKSTAT_MAX_KEYS);
    }

    klockstat_bpf& skel_;
    const Settings& settings_;
    Printer printer_;
    StackCollector collector_; // kernel stacks only: no process's mappings to read
    std::function<void(Symbolizer&)> report_;
};

// The hold-time hooks: klockstat.h's functions, fentry/fexit else kprobes;
// an acquisition at its entry and its return, a release at its entry.
AttachStep hold_steps() {
#define TAKE(fn, flags) FunctionProgram{#fn, true, true, false},
#define TRY(fn, flags, taken) FunctionProgram{#fn, true, true, true},
#define RELEASE(fn) FunctionProgram{#fn},
    return function_tiers(hold_step, {KLOCKSTAT_HOLD_FUNCTIONS(TAKE, TRY, RELEASE)});
#undef TAKE
#undef TRY
#undef RELEASE
}

std::vector<AttachStep> attach_steps(const Settings& settings) {
    std::vector<AttachStep> steps;
    if (settings.waits)
        steps.push_back(tracepoint_tiers(wait_step, {{"contention_begin", "lock:contention_begin"},
                                                     {"contention_end", "lock:contention_end"}}));
    if (settings.holds) steps.push_back(hold_steps());
    return steps;
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the totals map's
// entries (key, then value), their stacks not named (no stack map);
// variant bit 0: --per-thread, bit 1: sorted by count, bit 2: they are the
// hold_totals map's (holds only), bit 3: both maps' (the same entries
// twice: waits and holds).
void decode_klockstat(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_thread = (variant & 1) != 0;
    if (variant & 2) settings.sort = settings.hold_sort = SortBy::count;
    settings.waits = (variant & 4) == 0 || (variant & 8) != 0;
    settings.holds = (variant & 12) != 0;
    std::vector<Total> entries = recorded_entries<klockstat_key, klockstat_value>(events);
    Printer(options, settings, out)
        .print(settings.waits ? entries : std::vector<Total>{},
               settings.holds ? entries : std::vector<Total>{}, nullptr);
}

int klockstat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("klockstat",
                    "Kernel lock contention and hold times: waits per lock and kernel stack, "
                    "from the lock:contention_begin and contention_end tracepoints; how long "
                    "mutexes and rw semaphores are held, where fentry or kprobes reach them.",
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
                   [&](std::string_view v) { settings.lock = parse_lock_address(v); });
    cli.add_number(0, "locks", "N", "only the top N rows (the classic -n)", &settings.locks, 1,
                   1000000);
    cli.add_number('s', "stacks", "N", "frames printed per row in text, from the caller out",
                   &settings.stack_entries, 1, max_stack_depth);
    cli.add_option('S', "sort", "FIELD",
                   "order waits by acq_max (the default), acq_total or acq_count, holds by "
                   "hld_max (the default), hld_total or hld_count; a pair: acq_count,hld_total",
                   [&](std::string_view v) { parse_sort(v, settings); });
    bool waits_only = false, holds_only = false;
    cli.add_switch(0, "waits-only", "only waits (contention), no hold times", &waits_only);
    cli.add_switch(0, "holds-only",
                   "only hold times (needs fentry or kprobes on mutex_lock and its kin)",
                   &holds_only);
    cli.set_examples(
        "  klockstat                 until Ctrl-C, the longest waits (and holds) last\n"
        "  klockstat -d 5            for five seconds\n"
        "  klockstat 5               every five seconds\n"
        "  klockstat -p 181          waits of process 181 only\n"
        "  klockstat --caller pipe_  callers whose name starts with pipe_\n"
        "  klockstat -S acq_count    the most frequent waits last\n"
        "  klockstat --holds-only -S hld_total  holds, the most time held last\n"
        "  klockstat --locks 3 -s 6  the top three, six frames each\n"
        "  klockstat -P              a row per thread\n"
        "  klockstat -o json -d 5    a JSON Lines record per row\n");
    cli.exclusive({"--waits-only", "--holds-only"}, "pick one (neither: both)");
    cli.needs("-n", "-P", "rows name a thread only per thread");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    settings.waits = !holds_only;
    settings.holds = !waits_only;

    return run_summary_tool<klockstat_bpf>(
        {.name = "klockstat",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings); },
         .configure =
             [&](klockstat_bpf& skel, const AttachPlan& plan) {
                 // What this kernel let the plan take: the rest is not shown.
                 settings.waits = plan.has_step(wait_step);
                 settings.holds = plan.has_step(hold_step);
                 SortBy drawn = settings.waits ? settings.sort : settings.hold_sort;
                 settings.stacks.count_name = drawn == SortBy::count ? "acquisitions" : "ns";
                 skel.rodata->per_thread = settings.per_thread;
                 skel.rodata->only_lock = settings.lock;
                 configure_stack_map(skel.maps.stack_traces, settings.stacks);
                 if (!settings.waits) {
                     set_map_entries(skel.maps.totals, 1);
                     set_map_entries(skel.maps.waits, 1);
                 }
                 if (!settings.holds) {
                     set_map_entries(skel.maps.hold_totals, 1);
                     set_map_entries(skel.maps.held, 1);
                     set_map_entries(skel.maps.acquirings, 1);
                 }
             },
         .announcement = interval_announcement(options, "Tracing kernel locks"),
         .partial_plan = true},
        [&](klockstat_bpf& skel, const AttachPlan&, Output& out) {
            return LockSummary(skel, settings, Printer(options, settings, out), [&](Symbolizer&) {
                report_missed_stacks(skel, settings.stacks.storage_size, options, out);
                if (skel.bss->waits_dropped)
                    warn("%llu waits not counted (table of %d rows full)",
                         static_cast<unsigned long long>(skel.bss->waits_dropped),
                         KLOCKSTAT_MAX_KEYS);
                if (skel.bss->holds_dropped)
                    warn("%llu holds not counted (table of %d rows full)",
                         static_cast<unsigned long long>(skel.bss->holds_dropped),
                         KLOCKSTAT_MAX_KEYS);
            });
        });
}

} // namespace corescope::tools
