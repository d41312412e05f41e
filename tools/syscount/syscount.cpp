// syscount: count system calls by name or by process, with the time spent in them.
#include "clock.h"
#include "filters.h"
#include "run.h"
#include "syscall_names.h"

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

// ENOENT, or a number 1..4095.
int parse_errno(std::string_view text) {
    if (!text.empty() && text[0] >= '0' && text[0] <= '9')
        return static_cast<int>(parse_unsigned("errno", text, 1, 4095));
    for (int e = 1; e < 4096; e++) {
        const char* name = strerrorname_np(e);
        if (name && text == name) return e;
    }
    throw UsageError("invalid errno '" + std::string(text) +
                     "': not an errno name (like ENOENT) or number");
}

std::string errno_name(int e) {
    const char* name = strerrorname_np(e);
    return name ? name : std::to_string(e);
}

std::string syscall_label(uint32_t nr) {
    std::string_view name = syscall_name(nr);
    return name.empty() ? "[" + std::to_string(nr) + "]" : std::string(name);
}

struct Counts {
    uint64_t count = 0;
    uint64_t total_ns = 0;
};

struct Row {
    uint32_t key; // system call number or PID
    std::string comm;
    Counts counts;
};

// Reads the cumulative per-CPU counts and turns them into per-interval rows.
class Reader {
  public:
    Reader(syscount_bpf* skel, const Settings& settings)
        : skel_(skel), settings_(settings), cpus_(libbpf_num_possible_cpus()) {
        if (cpus_ <= 0) throw RuntimeError(errno_message("cannot count the possible CPUs", cpus_));
    }

    std::vector<Row> interval_rows() {
        return settings_.by_process ? process_rows() : syscall_rows();
    }

  private:
    static Counts delta(const Counts& now, const Counts& before) {
        // A smaller count means the slot was reused (a PID recycled).
        if (now.count < before.count) return now;
        return {now.count - before.count, now.total_ns - before.total_ns};
    }

    std::vector<Row> syscall_rows() {
        std::vector<syscount_counts> values(static_cast<size_t>(cpus_));
        std::vector<Row> rows;
        for (uint32_t nr = 0; nr < SYSCOUNT_MAX_NR; nr++) {
            if (bpf_map__lookup_elem(skel_->maps.by_nr, &nr, sizeof nr, values.data(),
                                     values.size() * sizeof(syscount_counts), 0) != 0)
                continue;
            Counts now;
            for (const syscount_counts& v : values) {
                now.count += v.count;
                now.total_ns += v.total_ns;
            }
            Counts d = delta(now, by_nr_[nr]);
            by_nr_[nr] = now;
            if (d.count) rows.push_back({nr, {}, d});
        }
        return rows;
    }

    std::vector<Row> process_rows() {
        std::vector<uint32_t> keys;
        uint32_t key = 0;
        const void* prev = nullptr;
        while (bpf_map__get_next_key(skel_->maps.by_pid, prev, &key, sizeof key) == 0) {
            keys.push_back(key);
            prev = &keys.back();
            if (keys.size() > SYSCOUNT_MAX_PIDS) break;
        }
        std::vector<syscount_process> values(static_cast<size_t>(cpus_));
        std::vector<Row> rows;
        std::map<uint32_t, Counts> seen;
        for (uint32_t pid : keys) {
            // Check before reading: a process found gone cannot add more, so
            // its entry goes once its last counts are read.
            bool gone = kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
            if (bpf_map__lookup_elem(skel_->maps.by_pid, &pid, sizeof pid, values.data(),
                                     values.size() * sizeof(syscount_process), 0) != 0)
                continue;
            Counts now;
            std::string comm;
            uint64_t comm_ns = 0;
            for (const syscount_process& v : values) {
                now.count += v.counts.count;
                now.total_ns += v.counts.total_ns;
                if (v.comm_ns > comm_ns) {
                    comm = std::string(fixed_string(v.comm));
                    comm_ns = v.comm_ns;
                }
            }
            Counts d = delta(now, by_pid_[pid]);
            if (gone)
                bpf_map__delete_elem(skel_->maps.by_pid, &pid, sizeof pid, 0);
            else
                seen[pid] = now;
            if (d.count) rows.push_back({pid, comm, d});
        }
        by_pid_ = std::move(seen);
        return rows;
    }

    syscount_bpf* skel_;
    const Settings& settings_;
    int cpus_;
    Counts by_nr_[SYSCOUNT_MAX_NR];
    std::map<uint32_t, Counts> by_pid_;
};

struct Printer {
    const CommonOptions& options;
    const Settings& settings;
    Output& out;
    Reader reader;
    double last = monotonic_seconds();
    bool printed = false;

    void print() {
        double now = monotonic_seconds();
        double interval = now - last;
        last = now;
        std::vector<Row> rows = reader.interval_rows();
        uint64_t total = 0;
        for (const Row& r : rows)
            total += r.counts.count;
        std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
            if (settings.latency && a.counts.total_ns != b.counts.total_ns)
                return a.counts.total_ns > b.counts.total_ns;
            if (a.counts.count != b.counts.count) return a.counts.count > b.counts.count;
            return a.key < b.key;
        });
        size_t distinct = rows.size();
        if (settings.top && rows.size() > settings.top) rows.resize(settings.top);
        if (options.format == OutputFormat::json)
            json(rows, total, distinct, interval);
        else
            text(rows);
        out.end_record();
        printed = true;
    }

    void json(const std::vector<Row>& rows, uint64_t total, size_t distinct, double interval) {
        std::string entries = "[";
        for (size_t i = 0; i < rows.size(); i++) {
            const Row& r = rows[i];
            if (i) entries += ',';
            JsonObject j(entries);
            if (settings.by_process) {
                j.unsigned_number("pid", r.key).string("comm", r.comm);
            } else {
                std::string_view name = syscall_name(r.key);
                if (name.empty())
                    j.null("syscall");
                else
                    j.string("syscall", name);
                j.unsigned_number("nr", r.key);
            }
            j.unsigned_number("count", r.counts.count);
            if (settings.latency)
                j.unsigned_number("total_ns", r.counts.total_ns)
                    .unsigned_number("avg_ns", r.counts.total_ns / r.counts.count);
            j.end();
        }
        entries += ']';
        JsonObject j(out.buffer());
        j.string("time", iso_time_now())
            .real("interval_s", interval, 3)
            .string("by", settings.by_process ? "process" : "syscall");
        if (settings.errno_value)
            j.string("errno", errno_name(settings.errno_value));
        else if (options.failed)
            j.boolean("failed_only", true);
        j.unsigned_number("total", total)
            .unsigned_number("distinct", distinct)
            .raw("entries", entries)
            .end_line();
    }

    void text(const std::vector<Row>& rows) {
        std::string& b = out.buffer();
        if (printed) b += '\n';
        if (options.time) {
            b += '[';
            append_wall_time(b);
            b += "]\n";
        }
        const char* unit = options.milliseconds ? "ms" : "us";
        double divisor = options.milliseconds ? 1e6 : 1e3;
        char line[160];
        if (settings.by_process)
            snprintf(line, sizeof line, "%-7s %-16s %10s", "PID", "COMM", "COUNT");
        else
            snprintf(line, sizeof line, "%-24s %10s", "SYSCALL", "COUNT");
        b += line;
        if (settings.latency) {
            snprintf(line, sizeof line, " %16s %12s", (std::string("TOTAL(") + unit + ")").c_str(),
                     (std::string("AVG(") + unit + ")").c_str());
            b += line;
        }
        b += '\n';
        for (const Row& r : rows) {
            if (settings.by_process) {
                append_padded(b, std::to_string(r.key), 7);
                b += ' ';
                append_escaped_padded(b, r.comm, 16);
            } else {
                append_padded(b, syscall_label(r.key), 24);
            }
            b += ' ';
            append_unsigned(b, r.counts.count, 10);
            if (settings.latency) {
                double total = static_cast<double>(r.counts.total_ns) / divisor;
                snprintf(line, sizeof line, " %16.3f %12.3f", total,
                         total / static_cast<double>(r.counts.count));
                b += line;
            }
            b += '\n';
        }
    }
};

std::vector<AttachStep> attach_steps(bool latency) {
    auto way = [latency](const char* enter, const char* exit, AttachKind kind,
                         const char* enter_target, const char* exit_target) {
        AttachWay w;
        if (latency) w.points.push_back({enter, kind, enter_target});
        w.points.push_back({exit, kind, exit_target});
        return w;
    };
    return {{latency ? "system call entry and exit" : "system call exit",
             {way("tp_btf_enter", "tp_btf_exit", AttachKind::tp_btf, "sys_enter", "sys_exit"),
              way("raw_enter", "raw_exit", AttachKind::raw_tp, "sys_enter", "sys_exit"),
              way("tp_enter", "tp_exit", AttachKind::tracepoint, "raw_syscalls:sys_enter",
                  "raw_syscalls:sys_exit")}}};
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
                   [&](std::string_view v) { settings.errno_value = parse_errno(v); });
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
                 skel.rodata->failed_only = options.failed;
                 skel.rodata->only_errno = settings.errno_value;
                 skel.rodata->self_tgid = static_cast<uint32_t>(getpid());
                 // The maps this run does not use take one slot (their code is dead).
                 int err = 0;
                 if (settings.by_process)
                     err = bpf_map__set_max_entries(skel.maps.by_nr, 1);
                 else
                     err = bpf_map__set_max_entries(skel.maps.by_pid, 1);
                 if (!err && !settings.latency) err = bpf_map__set_max_entries(skel.maps.start, 1);
                 if (err) throw RuntimeError(errno_message("cannot size the BPF maps", err));
             },
         .announcement = options.interval
                             ? "Tracing system calls, printing every " +
                                   std::to_string(*options.interval) + " s... Hit Ctrl-C to end."
                             : "Tracing system calls... Hit Ctrl-C to end."},
        [&](syscount_bpf& skel, const AttachPlan&, Output& out) {
            return Printer{options, settings, out, Reader(&skel, settings)};
        });
}

} // namespace corescope::tools
