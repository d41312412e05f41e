// corescope triage: over one window, in one process with its BPF programs
// loaded once, collect what the first minute on a sick host needs (the
// classic checklist: uptime, dmesg, vmstat, mpstat, pidstat, iostat, free,
// sar -n DEV/TCP, top, pidstat -d; plus run-queue and disk latency, page
// cache hits, new processes, failed opens, DNS and TCP connect latency and
// packet drops by reason from BPF), then say what crossed a threshold.
#include "triage.h"

#include "attach_plan.h"
#include "cli.h"
#include "drop_reasons.h"
#include "fd.h"
#include "file_rw.h"
#include "filters.h"
#include "host_lookups.h"
#include "irq_times.h"
#include "kernel_features.h"
#include "map_reader.h"
#include "output.h"
#include "page_cache.h"
#include "procfs.h"
#include "signals.h"
#include "skeleton.h"
#include "tool.h"
#include "triage_findings.h"
#include "triage_html.h"
#include "triage_render.h"
#include "triage_report.h"

#include "triage.skel.h"
#include "irq_handler_key.h"
#include "triage_bpf.h"
#include "file_rw_by_file.h"
#include <linux/types.h>

#include <algorithm>
#include <bpf/bpf.h>
#include <cstring>
#include <map>
#include <optional>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

namespace corescope {

namespace {

using triage::Report;

double monotonic_s() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double cpu_seconds_of_self() {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

triage::CpuShare share(const procfs::CpuTimes& d) {
    triage::CpuShare s;
    double total = static_cast<double>(d.total());
    if (total <= 0) {
        s.idle = 100;
        return s;
    }
    s.user = 100.0 * static_cast<double>(d.user + d.nice) / total;
    s.system = 100.0 * static_cast<double>(d.system) / total;
    s.iowait = 100.0 * static_cast<double>(d.iowait) / total;
    s.irq = 100.0 * static_cast<double>(d.irq + d.softirq) / total;
    s.steal = 100.0 * static_cast<double>(d.steal) / total;
    s.idle = 100.0 * static_cast<double>(d.idle) / total;
    return s;
}

std::string errno_name(int err) {
    const char* name = strerrorname_np(err);
    return name ? name : "E" + std::to_string(err);
}

std::vector<triage::NameCount> sorted(std::map<std::string, uint64_t> counts) {
    std::vector<triage::NameCount> out;
    for (auto& [name, count] : counts)
        out.push_back({name, count});
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.count > b.count; });
    return out;
}

// Each source of triage's BPF half, its ways to attach in order of
// preference. DNS latency probes the system's C library, when one is found.
std::vector<AttachStep> attach_steps(const std::vector<std::string>& libcs) {
    std::vector<AttachStep> steps = {
        tracepoint_tiers("run-queue latency",
                         {{"sched_wakeup", "sched:sched_wakeup"},
                          {"sched_wakeup_new", "sched:sched_wakeup_new"},
                          {"sched_switch", "sched:sched_switch"}},
                         {AttachKind::tp_btf, AttachKind::raw_tp}),
        tracepoint_tiers("block I/O latency",
                         {{"block_rq_issue", "block:block_rq_issue"},
                          {"block_rq_complete", "block:block_rq_complete"}},
                         {AttachKind::tp_btf, AttachKind::raw_tp}),
        tracepoint_tiers("new processes", {{"sched_process_exec", "sched:sched_process_exec"}},
                         {AttachKind::tp_btf, AttachKind::raw_tp}),
        {"failed opens",
         {{{{"tp_exit_openat", AttachKind::tracepoint, "syscalls:sys_exit_openat"},
            {"tp_exit_open", AttachKind::tracepoint, "syscalls:sys_exit_open", true},
            {"tp_exit_openat2", AttachKind::tracepoint, "syscalls:sys_exit_openat2", true}}}}},
        {"OOM kills", {{{{"tp_mark_victim", AttachKind::tracepoint, "oom:mark_victim"}}}}},
        tracepoint_tiers("hard IRQ time", {{"hardirq_entry", "irq:irq_handler_entry"},
                                           {"hardirq_exit", "irq:irq_handler_exit"}}),
        tracepoint_tiers(
            "soft IRQ time",
            {{"softirq_entry", "irq:softirq_entry"}, {"softirq_exit", "irq:softirq_exit"}},
            {AttachKind::tp_btf, AttachKind::raw_tp}),
        tracepoint_tiers("fatal signals", {{"signal_generate", "signal:signal_generate"}},
                         {AttachKind::tp_btf, AttachKind::raw_tp}),
        tracepoint_tiers("packet drops", {{"kfree_skb", "skb:kfree_skb"}}),
        tracepoint_tiers("TCP connect latency",
                         {{"inet_sock_set_state", "sock:inet_sock_set_state"}}),
        page_cache_attach_step(),
        file_rw_step(),
    };
    if (!libcs.empty())
        steps.push_back(
            {"DNS latency",
             {host_lookup_uprobes(
                 libcs, [](std::string_view) { return "dns_lookup_enter"; }, "dns_lookup_exit")}});
    return steps;
}

// The BPF half: loaded once, read once at the end.
class TriageProbes {
  public:
    void start(const CommonOptions& options, std::vector<std::string>& unavailable) {
        std::string why;
        if (!KernelFeatures::instance().bpf_permitted(&why)) {
            unavailable.push_back(
                "BPF sources (run-queue, disk latency, IRQ time, execs, failed opens, signals, "
                "DNS, packet drops, TCP connects, page cache, file reads and writes): " +
                why);
            return;
        }
        std::vector<std::string> libcs;
        try {
            libcs = libc_paths();
        } catch (const RuntimeError& e) {
            unavailable.push_back(std::string("DNS latency: ") + e.what());
        }
        plan_ = AttachPlan::choose_available("triage", attach_steps(libcs),
                                             KernelFeatures::instance(), unavailable);
        bpf_object_open_opts open_opts = make_open_opts(options);
        skel_ = open_skeleton<triage_bpf>("triage", &open_opts);
        int args = KernelFeatures::instance().tracepoint_arg_count("block_rq_issue");
        skel_->rodata->rq_issue_arg = args == 2 ? 1 : 0;
        skel_->rodata->kfree_skb_has_reason =
            KernelFeatures::instance().tracepoint_arg_count("kfree_skb") >= 3;
        skel_->rodata->page_cache_page_shift = page_shift();
        skel_->rodata->file_rw_self_tgid = static_cast<__u32>(getpid());
        load_skeleton("triage", skel_.get(), plan_);
        size_t unavailable_before = unavailable.size();
        links_ = plan_.attach_available(skel_->obj, unavailable);
        std::string page_cache_step = page_cache_attach_step().what;
        for (const AttachPlan::Choice& c : plan_.choices())
            page_cache_attached_ = page_cache_attached_ || c.what == page_cache_step;
        for (size_t i = unavailable_before; i < unavailable.size(); i++)
            if (unavailable[i].starts_with(page_cache_step + ":")) page_cache_attached_ = false;
        if (options.verbose) std::fputs(plan_.describe().c_str(), stderr);
        stats_fd_.reset(bpf_enable_stats(BPF_STATS_RUN_TIME));
    }

    bool loaded() const { return skel_ != nullptr; }

    // The counters that only grow are read when the window starts, so that
    // what happened between attach and the window is left out.
    // A reading that fails leaves the page cache out of the report (the
    // rest still prints) and says why.
    void window_started(std::vector<std::string>& unavailable) {
        if (!skel_) return; // BPF not permitted: said in start()
        try {
            take_map<file_rw_key, file_rw_counts>(skel_->maps.files, FILE_RW_FILES);
        } catch (const RuntimeError& e) {
            unavailable.push_back(std::string("file reads and writes: ") + e.what());
        }
        if (!page_cache_attached_) return;
        try {
            page_cache_at_start_ = read_page_cache_counters(skel_->maps.page_cache_totals);
        } catch (const RuntimeError& e) {
            page_cache_attached_ = false;
            unavailable.push_back(std::string("page cache activity: ") + e.what());
        }
    }

    void collect(Report& report, const std::vector<procfs::DiskStats>& disks) {
        if (!skel_) return;
        report.run_queue_us = read_percpu_hist(skel_->maps.run_queue_hist);
        read_waiters(report);
        read_disks(report, disks);
        read_execs(report);
        read_failed_opens(report);
        read_fatal_signals(report);
        read_oom(report);
        read_interrupt_times(report);
        read_files(report);
        read_drops(report);
        uint32_t zero = 0;
        triage_connects connects{};
        if (bpf_map__lookup_elem(skel_->maps.connects, &zero, sizeof zero, &connects,
                                 sizeof connects, 0) == 0) {
            report.connect_latency_us = Histogram::log2(std::vector<uint64_t>(
                connects.latency_us.slots, connects.latency_us.slots + TRIAGE_SLOTS));
            report.connects_failed = connects.failed;
        }
        triage_hist dns{};
        if (bpf_map__lookup_elem(skel_->maps.dns_hist, &zero, sizeof zero, &dns, sizeof dns, 0) ==
            0) {
            report.dns_latency_us =
                Histogram::log2(std::vector<uint64_t>(dns.slots, dns.slots + TRIAGE_SLOTS));
            report.dns_lookups = report.dns_latency_us.total();
        }
        if (page_cache_attached_) {
            try {
                PageCacheActivity pages =
                    page_cache_activity(read_page_cache_counters(skel_->maps.page_cache_totals),
                                        page_cache_at_start_, page_cache_by_functions(plan_));
                report.page_cache = {true, pages.hits, pages.misses, pages.dirties};
            } catch (const RuntimeError& e) {
                report.unavailable.push_back(std::string("page cache activity: ") + e.what());
            }
        }
        report.bpf_cpu_seconds = bpf_run_time_seconds();
    }

  private:
    Histogram read_percpu_hist(bpf_map* map) {
        int cpus = libbpf_num_possible_cpus();
        std::vector<triage_hist> per_cpu(static_cast<size_t>(std::max(cpus, 1)));
        uint32_t zero = 0;
        std::vector<uint64_t> slots(TRIAGE_SLOTS, 0);
        if (bpf_map__lookup_elem(map, &zero, sizeof zero, per_cpu.data(),
                                 per_cpu.size() * sizeof(triage_hist), 0) == 0)
            for (const triage_hist& h : per_cpu)
                for (int i = 0; i < TRIAGE_SLOTS; i++)
                    slots[i] += h.slots[i];
        return Histogram::log2(slots);
    }

    template <class Key, class Value, class Fn>
    void for_each(bpf_map* map, Fn fn) {
        Key key{}, next{};
        Key* previous = nullptr;
        while (bpf_map__get_next_key(map, previous, &next, sizeof next) == 0) {
            Value value{};
            if (bpf_map__lookup_elem(map, &next, sizeof next, &value, sizeof value, 0) == 0)
                fn(next, value);
            key = next;
            previous = &key;
        }
    }

    void read_waiters(Report& report) {
        for_each<uint32_t, triage_waiter>(
            skel_->maps.waiters, [&](uint32_t tgid, const triage_waiter& w) {
                if (tgid == 0) return; // the idle task
                report.waiters.push_back({tgid, std::string(w.comm, strnlen(w.comm, sizeof w.comm)),
                                          w.wait_ns / 1000, w.count});
            });
        std::sort(report.waiters.begin(), report.waiters.end(),
                  [](auto& a, auto& b) { return a.wait_us > b.wait_us; });
        if (report.waiters.size() > 10) report.waiters.resize(10);
    }

    void read_disks(Report& report, const std::vector<procfs::DiskStats>& disks) {
        for_each<uint32_t, triage_hist>(skel_->maps.disk_hist, [&](uint32_t dev,
                                                                   const triage_hist& h) {
            unsigned major = dev >> 20, minor = dev & ((1u << 20) - 1);
            for (const procfs::DiskStats& d : disks) {
                if (d.major != major || d.minor != minor) continue;
                for (triage::Disk& disk : report.disks)
                    if (disk.name == d.name)
                        disk.latency_us =
                            Histogram::log2(std::vector<uint64_t>(h.slots, h.slots + TRIAGE_SLOTS));
            }
        });
    }

    // Counted from the window's start (window_started emptied the map).
    void read_files(Report& report) {
        std::vector<MapEntry<file_rw_key, file_rw_counts>> entries;
        try {
            entries = read_map<file_rw_key, file_rw_counts>(skel_->maps.files, FILE_RW_FILES);
        } catch (const RuntimeError& e) {
            report.unavailable.push_back(std::string("file reads and writes: ") + e.what());
            return;
        }
        for (const auto& [key, v] : entries)
            report.io_files.push_back({key.pid, std::string(fixed_string(v.comm)),
                                       std::string(fixed_string(v.name)), v.reads, v.writes,
                                       v.read_bytes, v.write_bytes});
        std::sort(report.io_files.begin(), report.io_files.end(),
                  [](auto& a, auto& b) { return a.bytes() > b.bytes(); });
        if (report.io_files.size() > 10) report.io_files.resize(10);
    }

    void read_execs(Report& report) {
        std::map<std::string, uint64_t> counts;
        for_each<triage_comm_key, uint64_t>(
            skel_->maps.exec_counts, [&](const triage_comm_key& k, uint64_t n) {
                counts[std::string(k.comm, strnlen(k.comm, sizeof k.comm))] += n;
                report.execs += n;
            });
        report.exec_commands = sorted(counts);
    }

    void read_failed_opens(Report& report) {
        std::map<std::string, uint64_t> by_errno, by_comm;
        for_each<triage_failed_open_key, uint64_t>(
            skel_->maps.failed_opens, [&](const triage_failed_open_key& k, uint64_t n) {
                by_errno[errno_name(k.err)] += n;
                by_comm[std::string(k.comm, strnlen(k.comm, sizeof k.comm))] += n;
                report.failed_opens += n;
            });
        report.failed_open_errors = sorted(by_errno);
        report.failed_open_commands = sorted(by_comm);
    }

    void read_fatal_signals(Report& report) {
        for_each<triage_signal_key, uint64_t>(
            skel_->maps.fatal_signals, [&](const triage_signal_key& k, uint64_t n) {
                if (!signal_terminates_by_default(k.sig)) return; // SIGSTOP and the like
                report.fatal_signals += n;
                report.fatal_signal_targets.push_back(
                    {signal_name(k.sig), std::string(k.comm, strnlen(k.comm, sizeof k.comm)), n});
            });
        std::sort(report.fatal_signal_targets.begin(), report.fatal_signal_targets.end(),
                  [](auto& a, auto& b) { return a.count > b.count; });
    }

    void read_oom(Report& report) {
        for_each<uint32_t, triage_oom>(skel_->maps.oom_victims, [&](uint32_t, const triage_oom& v) {
            report.oom_kills.push_back(
                {v.pid, std::string(v.comm, strnlen(v.comm, sizeof v.comm)), v.rss_kb, "bpf"});
        });
    }

    // By the running kernel's names; the marks of packets that were not
    // dropped (CONSUMED), which some kernels pass to kfree_skb, are left out.
    void read_drops(Report& report) {
        DropReasons reasons = DropReasons::of_running_kernel();
        std::map<std::string, uint64_t> by_reason;
        int cpus = std::max(libbpf_num_possible_cpus(), 1);
        std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
        uint32_t key = 0, next = 0;
        uint32_t* previous = nullptr;
        bpf_map* map = skel_->maps.drops_by_reason;
        while (bpf_map__get_next_key(map, previous, &next, sizeof next) == 0) {
            key = next;
            previous = &key;
            if (bpf_map__lookup_elem(map, &key, sizeof key, per_cpu.data(),
                                     per_cpu.size() * sizeof(uint64_t), 0) != 0)
                continue;
            bool unknown = key == TRIAGE_DROP_REASON_UNKNOWN;
            if (!unknown && !reasons.is_drop(key)) continue;
            uint64_t n = 0;
            for (uint64_t c : per_cpu)
                n += c;
            by_reason[unknown ? "unknown" : reasons.label(key)] += n;
            report.packet_drops += n;
        }
        report.drop_reasons = sorted(by_reason);
    }

    void read_interrupt_times(Report& report) {
        auto busiest_first = [](std::vector<triage::InterruptTime>& v) {
            std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.time_us > b.time_us; });
        };
        for_each<hardirq_key, triage_irq_time>(
            skel_->maps.hardirq_time, [&](const hardirq_key& k, const triage_irq_time& t) {
                report.hardirqs.handlers.push_back(
                    {k.irq, std::string(k.name, strnlen(k.name, sizeof k.name)), t.count,
                     t.ns / 1000});
            });
        busiest_first(report.hardirqs.handlers);
        int cpus = std::max(libbpf_num_possible_cpus(), 1);
        std::vector<triage_irq_time> per_cpu(static_cast<size_t>(cpus));
        for (uint32_t vec = 0; vec < TRIAGE_SOFTIRQ_VECTORS; vec++) {
            if (bpf_map__lookup_elem(skel_->maps.softirq_time, &vec, sizeof vec, per_cpu.data(),
                                     per_cpu.size() * sizeof(triage_irq_time), 0) != 0)
                continue;
            triage::InterruptTime sum{vec, softirq_vector_name(vec)};
            for (const triage_irq_time& t : per_cpu) {
                sum.count += t.count;
                sum.time_us += t.ns / 1000;
            }
            if (sum.count) report.softirqs.handlers.push_back(sum);
        }
        busiest_first(report.softirqs.handlers);
    }

    double bpf_run_time_seconds() {
        if (!stats_fd_.valid()) return 0;
        uint64_t total_ns = 0;
        bpf_program* prog;
        bpf_object__for_each_program(prog, skel_->obj) {
            int fd = bpf_program__fd(prog);
            if (fd < 0) continue;
            bpf_prog_info info{};
            uint32_t len = sizeof info;
            if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) total_ns += info.run_time_ns;
        }
        return static_cast<double>(total_ns) / 1e9;
    }

    AttachPlan plan_;
    bool page_cache_attached_ = false;
    PageCacheCounters page_cache_at_start_{};
    SkeletonPtr<triage_bpf> skel_;
    Links links_;
    FileDescriptor stats_fd_; // run-time statistics stay on while it is open
};

struct Snapshot {
    double at = 0;
    double uptime = 0;
    uint64_t kernel_log_seq = 0; // the number of the next kernel log record
    procfs::Stat stat;
    std::vector<procfs::DiskStats> disks;
    std::vector<procfs::NetDevice> net;
    std::map<std::string, uint64_t> tcp;
    std::map<std::string, uint64_t> vmstat;
    std::map<pid_t, procfs::ProcessCounters> processes;

    // The window runs from one reading of the kernel's counters to the
    // next: at the start everything else is read first, at the end after,
    // so listing the processes (tens of milliseconds on a busy host) falls
    // outside it.
    static Snapshot at_start() {
        Snapshot s;
        s.processes = procfs::read_processes();
        s.kernel_log_seq = procfs::read_kernel_log().next_seq;
        s.read_counters();
        return s;
    }
    static Snapshot at_end() {
        Snapshot s;
        s.read_counters();
        s.processes = procfs::read_processes();
        return s;
    }

  private:
    void read_counters() {
        at = monotonic_s();
        uptime = procfs::read_uptime_seconds();
        stat = procfs::read_stat();
        disks = procfs::read_diskstats();
        net = procfs::read_net_dev();
        tcp = procfs::read_tcp_counters();
        vmstat = procfs::read_vmstat();
    }
};

uint64_t delta(const std::map<std::string, uint64_t>& end,
               const std::map<std::string, uint64_t>& start, const std::string& key) {
    auto e = end.find(key), s = start.find(key);
    uint64_t a = e == end.end() ? 0 : e->second, b = s == start.end() ? 0 : s->second;
    return a > b ? a - b : 0;
}

void fill_from_snapshots(Report& r, const Snapshot& start, const Snapshot& end) {
    double window = std::max(end.at - start.at, 0.001);
    r.window_s = window;
    r.cpu = share(end.stat.all - start.stat.all);
    for (size_t i = 0; i < end.stat.per_cpu.size() && i < start.stat.per_cpu.size(); i++)
        r.per_cpu.push_back(share(end.stat.per_cpu[i] - start.stat.per_cpu[i]));
    r.context_switches_per_s =
        static_cast<double>(end.stat.context_switches - start.stat.context_switches) / window;

    double hz = static_cast<double>(procfs::ticks_per_second());
    for (auto& [pid, p] : end.processes) {
        auto before = start.processes.find(pid);
        uint64_t ticks = before == start.processes.end()
                             ? p.ticks
                             : p.ticks - std::min(p.ticks, before->second.ticks);
        if (ticks == 0) continue;
        r.busiest.push_back(
            {static_cast<uint32_t>(pid), p.comm, 100.0 * static_cast<double>(ticks) / hz / window});
    }
    std::sort(r.busiest.begin(), r.busiest.end(),
              [](auto& a, auto& b) { return a.cpu_percent > b.cpu_percent; });
    if (r.busiest.size() > 10) r.busiest.resize(10);

    // Storage I/O by process, as pidstat -d: a process that started in the
    // window counts from zero; one that ended in it is not seen.
    for (auto& [pid, p] : end.processes) {
        if (!p.has_io) continue;
        procfs::ProcessCounters zero;
        auto found = start.processes.find(pid);
        const procfs::ProcessCounters& before =
            found == start.processes.end() || !found->second.has_io ? zero : found->second;
        auto grown = [](uint64_t now, uint64_t then) { return now > then ? now - then : 0; };
        uint64_t read = grown(p.read_bytes, before.read_bytes);
        uint64_t written = grown(p.write_bytes, before.write_bytes);
        uint64_t cancelled = grown(p.cancelled_write_bytes, before.cancelled_write_bytes);
        written = written > cancelled ? written - cancelled : 0;
        if (read + written == 0) continue;
        r.io_busiest.push_back({static_cast<uint32_t>(pid), p.comm,
                                static_cast<double>(read) / 1024.0 / window,
                                static_cast<double>(written) / 1024.0 / window});
    }
    std::sort(r.io_busiest.begin(), r.io_busiest.end(),
              [](auto& a, auto& b) { return a.kb_per_s() > b.kb_per_s(); });
    if (r.io_busiest.size() > 10) r.io_busiest.resize(10);

    auto meminfo = procfs::read_meminfo();
    r.mem_total_kb = meminfo["MemTotal"];
    r.mem_available_kb = meminfo["MemAvailable"];
    r.swap_total_kb = meminfo["SwapTotal"];
    r.swap_free_kb = meminfo["SwapFree"];
    r.swap_in_pages = delta(end.vmstat, start.vmstat, "pswpin");
    r.swap_out_pages = delta(end.vmstat, start.vmstat, "pswpout");
    r.major_faults = delta(end.vmstat, start.vmstat, "pgmajfault");
    r.oom_kill_counter = delta(end.vmstat, start.vmstat, "oom_kill");

    for (const procfs::DiskStats& e : end.disks) {
        const procfs::DiskStats* s = nullptr;
        for (const procfs::DiskStats& d : start.disks)
            if (d.name == e.name) s = &d;
        if (!s) continue;
        triage::Disk d;
        d.name = e.name;
        d.reads_per_s = static_cast<double>(e.reads - s->reads) / window;
        d.writes_per_s = static_cast<double>(e.writes - s->writes) / window;
        d.read_kb_per_s = static_cast<double>(e.read_sectors - s->read_sectors) / 2.0 / window;
        d.write_kb_per_s = static_cast<double>(e.write_sectors - s->write_sectors) / 2.0 / window;
        d.util_percent =
            std::min(100.0, static_cast<double>(e.io_ticks_ms - s->io_ticks_ms) / 10.0 / window);
        bool idle_device = e.reads + e.writes == 0;
        if (!idle_device) r.disks.push_back(d);
    }
    for (const procfs::NetDevice& e : end.net) {
        for (const procfs::NetDevice& s : start.net) {
            if (s.name != e.name) continue;
            triage::NetDevice n;
            n.name = e.name;
            n.rx_kb_per_s = static_cast<double>(e.rx_bytes - s.rx_bytes) / 1024.0 / window;
            n.tx_kb_per_s = static_cast<double>(e.tx_bytes - s.tx_bytes) / 1024.0 / window;
            n.rx_drops = e.rx_drops - s.rx_drops;
            n.tx_drops = e.tx_drops - s.tx_drops;
            n.rx_errors = e.rx_errors - s.rx_errors;
            n.tx_errors = e.tx_errors - s.tx_errors;
            r.net.push_back(n);
        }
    }
    r.tcp.active_opens = delta(end.tcp, start.tcp, "ActiveOpens");
    r.tcp.passive_opens = delta(end.tcp, start.tcp, "PassiveOpens");
    r.tcp.attempt_fails = delta(end.tcp, start.tcp, "AttemptFails");
    r.tcp.estab_resets = delta(end.tcp, start.tcp, "EstabResets");
    r.tcp.out_segs = delta(end.tcp, start.tcp, "OutSegs");
    r.tcp.retrans_segs = delta(end.tcp, start.tcp, "RetransSegs");
    r.tcp.out_resets = delta(end.tcp, start.tcp, "OutRsts");
    r.tcp.in_errors = delta(end.tcp, start.tcp, "InErrs");
}

// The kernel log's trouble of the window (its records numbered from the
// window's start on: the kernel's clock and /proc/uptime may drift apart)
// and of the minutes before it.
void add_kernel_log(Report& r, const Snapshot& start) {
    procfs::KernelLog log = procfs::read_kernel_log();
    r.kernel_log_read = log.error.empty();
    if (!r.kernel_log_read) r.unavailable.push_back("kernel log: " + log.error);
    std::vector<triage::LogLine> lines;
    for (const procfs::KernelLogRecord& rec : log.trouble)
        lines.push_back({rec.seconds, rec.kind, rec.text, rec.seq >= start.kernel_log_seq});
    triage::keep_recent_kernel_log(r, std::move(lines), start.uptime);
    // OOM kills the log names but BPF did not see (before attach, or no tracepoint).
    for (const triage::LogLine& line : r.kernel_log) {
        if (!line.during_window || line.kind != "oom_kill") continue;
        auto at = line.text.find("Killed process ");
        if (at == std::string::npos) continue;
        uint32_t pid =
            static_cast<uint32_t>(std::strtoul(line.text.c_str() + at + 15, nullptr, 10));
        bool known = false;
        for (const triage::OomKill& k : r.oom_kills)
            known = known || k.pid == pid;
        if (known) continue;
        std::string comm;
        auto open = line.text.find('(', at), close = line.text.find(')', at);
        if (open != std::string::npos && close != std::string::npos)
            comm = line.text.substr(open + 1, close - open - 1);
        r.oom_kills.push_back({pid, comm, 0, "kernel log"});
    }
}

} // namespace

int triage_command(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli(
        "corescope triage",
        "Collect the 60-second incident checklist in one command and say what crossed a threshold.",
        {Flag::duration});
    cli.set_examples("  corescope triage                 a 60-second window\n"
                     "  corescope triage -d 10           a 10-second window\n"
                     "  corescope triage -o json > t.json\n"
                     "  corescope triage -o html > report.html   one page to attach to an "
                     "incident\n");
    cli.add_output_format("html", OutputFormat::html);
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    double duration = options.duration.value_or(60);

    install_stop_handlers();
    setup_libbpf_logging(options.verbose);
    double cpu_at_start = cpu_seconds_of_self();

    Report report;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    report.hostname = host;
    report.kernel = KernelFeatures::instance().kernel_release();
    report.started_at = iso_time_now();
    report.cpus = static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN));

    TriageProbes probes;
    try {
        if (!options.btf_path.empty()) KernelFeatures::instance().set_btf_path(options.btf_path);
        probes.start(options, report.unavailable);
    } catch (const RuntimeError& e) {
        report.unavailable.push_back(std::string("BPF sources: ") + e.what());
    }
    if (options.dry_run) {
        for (const std::string& u : report.unavailable)
            std::printf("not available: %s\n", u.c_str());
        return exit_ok;
    }

    Snapshot start = Snapshot::at_start();
    probes.window_started(report.unavailable);
    // When, on CLOCK_MONOTONIC: a caller (the tests) can line other tools'
    // windows up with this one.
    if (options.verbose)
        std::fprintf(stderr, "triage: window started at %.6f s, for %g s\n", start.at, duration);
    bool progress = isatty(STDERR_FILENO);
    int last_shown = -1;
    while (!stop_requested()) {
        double left = duration - (monotonic_s() - start.at);
        if (left <= 0) break;
        if (progress && static_cast<int>(left) != last_shown) {
            last_shown = static_cast<int>(left);
            std::fprintf(stderr,
                         "\rcorescope triage: collecting, %3d s left (Ctrl-C to stop early) ",
                         last_shown + 1);
        }
        struct timespec ts {
            0, 100 * 1000 * 1000
        };
        nanosleep(&ts, nullptr);
    }
    if (progress) std::fprintf(stderr, "\r%70s\r", "");
    Snapshot end = Snapshot::at_end();
    if (options.verbose) std::fprintf(stderr, "triage: window ended at %.6f s\n", end.at);

    auto load = procfs::read_loadavg();
    report.load1 = load.one;
    report.load5 = load.five;
    report.load15 = load.fifteen;
    report.uptime_s = end.uptime;
    fill_from_snapshots(report, start, end);
    probes.collect(report, end.disks);
    add_kernel_log(report, start);
    report.self_cpu_seconds = cpu_seconds_of_self() - cpu_at_start + report.bpf_cpu_seconds;

    std::vector<triage::Finding> findings = triage::analyze(report);
    Output out;
    out.buffer() = options.format == OutputFormat::json   ? triage::render_json(report, findings)
                   : options.format == OutputFormat::html ? triage::render_html(report, findings)
                                                          : triage::render_text(report, findings);
    out.flush();
    return exit_ok;
}

} // namespace corescope
