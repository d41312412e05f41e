// syscount: count system calls by name or by process, with the time spent in them.
#include "decoder.h"
#include "map_reader.h"
#include "run.h"
#include "syscall_names.h"
#include "table_printer.h"

#include "syscount.skel.h"
#include "syscount/syscount.h"
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <time.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Settings {
    bool by_process = false;
    bool latency = false;
    bool list = false;
    uint64_t top = 10; // 0: all
    int errno_value = 0;
};

// The system call's name, or [NR] for a number without one.
std::string syscall_label(uint32_t nr) {
    std::string_view name = syscall_name(nr);
    return name.empty() ? "[" + std::to_string(nr) + "]" : std::string(name);
}

struct Row {
    uint32_t key; // system call number or PID
    std::string comm;
    syscount_counts counts;
};

void add_counts(syscount_counts& sum, const syscount_counts& one) {
    sum.count += one.count;
    sum.total_ns += one.total_ns;
}

// The per-CPU copies of a process's entry: the counts added, the newest name.
void add_process(syscount_process& sum, const syscount_process& one) {
    add_counts(sum.counts, one.counts);
    if (one.comm_ns >= sum.comm_ns) {
        sum.comm_ns = one.comm_ns;
        std::memcpy(sum.comm, one.comm, sizeof sum.comm);
    }
}

// The counts since the last read; a smaller count means the slot was
// reused (a PID recycled).
syscount_counts delta(const syscount_counts& now, const syscount_counts& before) {
    if (now.count < before.count) return {now.count, now.total_ns};
    return {now.count - before.count, now.total_ns - before.total_ns};
}

// Reads the cumulative per-CPU counts and turns them into per-interval rows.
class Reader {
  public:
    Reader(syscount_bpf* skel, const Settings& settings) : skel_(skel), settings_(settings) {}

    std::vector<Row> interval_rows() {
        return settings_.by_process ? process_rows() : syscall_rows();
    }

  private:
    std::vector<Row> syscall_rows() {
        std::vector<Row> rows;
        for (const auto& e :
             read_percpu_map<uint32_t, syscount_counts>(skel_->maps.by_nr, add_counts)) {
            if (e.key >= SYSCOUNT_MAX_NR) continue;
            syscount_counts d = delta(e.value, by_nr_[e.key]);
            by_nr_[e.key] = e.value;
            if (d.count) rows.push_back({e.key, {}, d});
        }
        return rows;
    }

    std::vector<Row> process_rows() {
        std::vector<Row> rows;
        std::map<uint32_t, syscount_counts> seen;
        for (const auto& e : read_percpu_map<uint32_t, syscount_process>(
                 skel_->maps.by_pid, add_process, SYSCOUNT_MAX_PIDS)) {
            syscount_counts d = delta(e.value.counts, by_pid_[e.key]);
            // A process found gone cannot add more: its entry goes once its
            // last counts are read.
            if (kill(static_cast<pid_t>(e.key), 0) != 0 && errno == ESRCH)
                bpf_map__delete_elem(skel_->maps.by_pid, &e.key, sizeof e.key, 0);
            else
                seen[e.key] = e.value.counts;
            if (d.count) rows.push_back({e.key, std::string(fixed_string(e.value.comm)), d});
        }
        by_pid_ = std::move(seen);
        return rows;
    }

    syscount_bpf* skel_;
    const Settings& settings_;
    syscount_counts by_nr_[SYSCOUNT_MAX_NR] = {};
    std::map<uint32_t, syscount_counts> by_pid_;
};

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings),
          table_(options, out, row_layout(), table_layout()) {}

    // One interval's rows: the most frequent (or, with -L, the slowest) first.
    void print(std::vector<Row> rows) {
        double now = monotonic_seconds();
        double interval = now - last_;
        last_ = now;
        uint64_t total = 0;
        for (const Row& r : rows)
            total += r.counts.count;
        std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
            if (settings_.latency && a.counts.total_ns != b.counts.total_ns)
                return a.counts.total_ns > b.counts.total_ns;
            if (a.counts.count != b.counts.count) return a.counts.count > b.counts.count;
            return a.key < b.key;
        });
        size_t distinct = rows.size();
        if (settings_.top && rows.size() > settings_.top) rows.resize(settings_.top);
        double divisor = options_.milliseconds ? 1e6 : 1e3;
        table_.begin();
        for (const Row& r : rows) {
            std::string_view name = syscall_name(r.key);
            Record row = table_.row();
            row.number(r.key).text(r.comm);
            if (name.empty())
                row.null();
            else
                row.text(name);
            row.number(r.key)
                .lazy([&] { return syscall_label(r.key); })
                .number(r.counts.count)
                .number(r.counts.total_ns)
                .number(r.counts.total_ns / r.counts.count)
                .real(static_cast<double>(r.counts.total_ns) / divisor)
                .real(static_cast<double>(r.counts.total_ns) / divisor /
                      static_cast<double>(r.counts.count))
                .end();
        }
        table_.end([&](Record& t) {
            t.text(iso_time_now())
                .real(interval)
                .text(settings_.by_process ? "process" : "syscall")
                .text(errno_name(settings_.errno_value))
                .boolean(true)
                .number(total)
                .number(distinct);
        });
    }

  private:
    RecordLayout row_layout() const {
        bool by_process = settings_.by_process;
        bool ms = options_.milliseconds;
        return {0,
                {shown_if(by_process, column("pid", "PID", 7)),
                 shown_if(by_process, column("comm", "COMM", 16)),
                 shown_if(!by_process, json_field("syscall")),
                 shown_if(!by_process, json_field("nr")),
                 shown_if(!by_process, text_column("SYSCALL", 24)),
                 column("count", "COUNT", 10, Align::right),
                 shown_if(settings_.latency, json_field("total_ns")),
                 shown_if(settings_.latency, json_field("avg_ns")),
                 shown_if(settings_.latency,
                          text_column(ms ? "TOTAL(ms)" : "TOTAL(us)", 16, Align::right)),
                 shown_if(settings_.latency,
                          text_column(ms ? "AVG(ms)" : "AVG(us)", 12, Align::right))}};
    }

    RecordLayout table_layout() const {
        return {0,
                {json_field("time"), json_field("interval_s"), json_field("by"),
                 shown_if(settings_.errno_value != 0, json_field("errno")),
                 shown_if(settings_.errno_value == 0 && options_.failed, json_field("failed_only")),
                 json_field("total"), json_field("distinct")}};
    }

    const CommonOptions& options_;
    const Settings& settings_;
    TablePrinter table_;
    double last_ = monotonic_seconds();
};

std::vector<AttachStep> attach_steps(bool latency) {
    std::vector<TracepointProgram> programs;
    if (latency) programs.push_back({"enter", "raw_syscalls:sys_enter"});
    programs.push_back({"exit", "raw_syscalls:sys_exit"});
    return {
        tracepoint_tiers(latency ? "system call entry and exit" : "system call exit", programs)};
}

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
// interval (key, then the counts summed over the CPUs, as syscount_counts
// or, with -P, syscount_process); variant bit 0: -P, bit 1: -L.
void decode_syscount(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    Settings settings;
    settings.by_process = (variant & 1) != 0;
    settings.latency = (variant & 2) != 0;
    std::vector<Row> rows;
    if (settings.by_process) {
        for (const auto& e : recorded_entries<uint32_t, syscount_process>(events))
            if (e.value.counts.count)
                rows.push_back(
                    {e.key, std::string(fixed_string(e.value.comm)), delta(e.value.counts, {})});
    } else {
        for (const auto& e : recorded_entries<uint32_t, syscount_counts>(events))
            if (e.value.count) rows.push_back({e.key, {}, delta(e.value, {})});
    }
    Printer(options, settings, out).print(std::move(rows));
}

int syscount(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
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
    cli.add_switch('l', "list", "list the system calls this tool knows by name, and exit",
                   &settings.list);
    cli.set_examples("  syscount                   count system calls until Ctrl-C, top 10\n"
                     "  syscount 1                 every second\n"
                     "  syscount -L -m 5 3         with time spent (ms), three 5-second intervals\n"
                     "  syscount -P --top 20       the 20 busiest processes\n"
                     "  syscount -x -p 181         failed calls of process 181\n"
                     "  syscount -e ENOENT         calls that failed with ENOENT\n"
                     "  syscount -o json 10        JSON Lines every 10 seconds\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (settings.list) {
        list_syscalls();
        return exit_ok;
    }

    return run_summary_tool<syscount_bpf>(
        {.name = "syscount",
         .options = options,
         .attach_steps = [&] { return attach_steps(settings.latency); },
         .configure =
             [&](syscount_bpf& skel, const AttachPlan&) {
                 skel.rodata->by_process = settings.by_process;
                 skel.rodata->measure_latency = settings.latency;
                 skel.rodata->only_errno = settings.errno_value;
                 skel.rodata->self_tgid = static_cast<uint32_t>(getpid());
                 // The maps this run does not use take one slot (their code is dead).
                 set_map_entries(settings.by_process ? skel.maps.by_nr : skel.maps.by_pid, 1);
                 if (!settings.latency) set_map_entries(skel.maps.start, 1);
             },
         .announcement = options.interval
                             ? "Tracing system calls, printing every " +
                                   std::to_string(*options.interval) + " s... Hit Ctrl-C to end."
                             : "Tracing system calls... Hit Ctrl-C to end."},
        [&](syscount_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out),
                    reader = Reader(&skel, settings)]() mutable {
                printer.print(reader.interval_rows());
            };
        });
}

} // namespace corescope::tools
