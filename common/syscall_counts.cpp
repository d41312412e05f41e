#include "syscall_counts.h"

#include "clock.h"
#include "errors.h"
#include "filters.h"
#include "syscall_names.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace corescope {

namespace {

// The system call's name, or [NR] for a number without one.
std::string syscall_label(uint32_t nr) {
    std::string_view name = syscall_name(nr);
    return name.empty() ? "[" + std::to_string(nr) + "]" : std::string(name);
}

void add_counts(syscall_counts& sum, const syscall_counts& one) {
    sum.count += one.count;
    sum.total_ns += one.total_ns;
}

// The per-CPU copies of a process's entry: the counts added, the newest name.
void add_process(syscall_process_counts& sum, const syscall_process_counts& one) {
    add_counts(sum.counts, one.counts);
    if (one.comm_ns >= sum.comm_ns) {
        sum.comm_ns = one.comm_ns;
        std::memcpy(sum.comm, one.comm, sizeof sum.comm);
    }
}

// The counts since the last read; a smaller count means the slot was
// reused (a PID recycled).
syscall_counts delta(const syscall_counts& now, const syscall_counts& before) {
    if (now.count < before.count) return {now.count, now.total_ns};
    return {now.count - before.count, now.total_ns - before.total_ns};
}

} // namespace

SyscallCountReader::SyscallCountReader(const bpf_map* by_nr, bpf_map* by_pid, bool by_process)
    : by_nr_map_(by_nr), by_pid_map_(by_pid), by_process_(by_process),
      by_nr_(SYSCALL_COUNTS_MAX_NR) {}

std::vector<SyscallCountRow> SyscallCountReader::interval_rows() {
    return by_process_ ? process_rows() : syscall_rows();
}

std::vector<SyscallCountRow> SyscallCountReader::syscall_rows() {
    std::vector<SyscallCountRow> rows;
    for (const auto& e : read_percpu_map<uint32_t, syscall_counts>(by_nr_map_, add_counts)) {
        if (e.key >= SYSCALL_COUNTS_MAX_NR) continue;
        syscall_counts d = delta(e.value, by_nr_[e.key]);
        by_nr_[e.key] = e.value;
        if (d.count) rows.push_back({e.key, {}, d});
    }
    return rows;
}

std::vector<SyscallCountRow> SyscallCountReader::process_rows() {
    std::vector<SyscallCountRow> rows;
    std::map<uint32_t, syscall_counts> seen;
    for (const auto& e : read_percpu_map<uint32_t, syscall_process_counts>(
             by_pid_map_, add_process, SYSCALL_COUNTS_MAX_PIDS)) {
        syscall_counts d = delta(e.value.counts, by_pid_[e.key]);
        // A process found gone cannot add more: its entry goes once its
        // last counts are read.
        if (kill(static_cast<pid_t>(e.key), 0) != 0 && errno == ESRCH)
            bpf_map__delete_elem(by_pid_map_, &e.key, sizeof e.key, 0);
        else
            seen[e.key] = e.value.counts;
        if (d.count) rows.push_back({e.key, std::string(fixed_string(e.value.comm)), d});
    }
    by_pid_ = std::move(seen);
    return rows;
}

std::vector<SyscallCountRow> recorded_syscall_count_rows(std::span<const RecordedEvent> events,
                                                         bool by_process) {
    std::vector<SyscallCountRow> rows;
    if (by_process) {
        for (const auto& e : recorded_entries<uint32_t, syscall_process_counts>(events))
            if (e.value.counts.count)
                rows.push_back(
                    {e.key, std::string(fixed_string(e.value.comm)), delta(e.value.counts, {})});
    } else {
        for (const auto& e : recorded_entries<uint32_t, syscall_counts>(events))
            if (e.value.count) rows.push_back({e.key, {}, delta(e.value, {})});
    }
    return rows;
}

SyscallCountPrinter::SyscallCountPrinter(const CommonOptions& options,
                                         const SyscallCountSettings& settings, Output& out)
    : options_(options), settings_(settings), table_(options, out, row_layout(), table_layout()),
      last_(monotonic_seconds()) {}

void SyscallCountPrinter::print(std::vector<SyscallCountRow> rows) {
    double now = monotonic_seconds();
    double interval = now - last_;
    last_ = now;
    uint64_t total = 0;
    for (const SyscallCountRow& r : rows)
        total += r.counts.count;
    std::sort(rows.begin(), rows.end(), [&](const SyscallCountRow& a, const SyscallCountRow& b) {
        if (settings_.latency && a.counts.total_ns != b.counts.total_ns)
            return a.counts.total_ns > b.counts.total_ns;
        if (a.counts.count != b.counts.count) return a.counts.count > b.counts.count;
        return a.key < b.key;
    });
    size_t distinct = rows.size();
    if (settings_.top && rows.size() > settings_.top) rows.resize(settings_.top);
    double divisor = options_.milliseconds ? 1e6 : 1e3;
    table_.begin();
    for (const SyscallCountRow& r : rows) {
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

RecordLayout SyscallCountPrinter::row_layout() const {
    bool by_process = settings_.by_process;
    bool ms = options_.milliseconds;
    return {
        0,
        {shown_if(by_process, column("pid", "PID", 7)),
         shown_if(by_process, column("comm", "COMM", 16)),
         shown_if(!by_process, json_field("syscall")), shown_if(!by_process, json_field("nr")),
         shown_if(!by_process, text_column("SYSCALL", 24)),
         column("count", "COUNT", 10, Align::right),
         shown_if(settings_.latency, json_field("total_ns")),
         shown_if(settings_.latency, json_field("avg_ns")),
         shown_if(settings_.latency, text_column(ms ? "TOTAL(ms)" : "TOTAL(us)", 16, Align::right)),
         shown_if(settings_.latency, text_column(ms ? "AVG(ms)" : "AVG(us)", 12, Align::right))}};
}

RecordLayout SyscallCountPrinter::table_layout() const {
    return {0,
            {json_field("time"), json_field("interval_s"), json_field("by"),
             shown_if(settings_.errno_value != 0, json_field("errno")),
             shown_if(settings_.errno_value == 0 && options_.failed, json_field("failed_only")),
             json_field("total"), json_field("distinct")}};
}

std::vector<AttachStep> syscall_count_attach_steps(bool latency) {
    std::vector<TracepointProgram> programs;
    if (latency) programs.push_back({"enter", "raw_syscalls:sys_enter"});
    programs.push_back({"exit", "raw_syscalls:sys_exit"});
    return {
        tracepoint_tiers(latency ? "system call entry and exit" : "system call exit", programs)};
}

} // namespace corescope
