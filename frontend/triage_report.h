// What `corescope triage` collected over its window: the report that the
// findings (triage_findings.h) are drawn from and that the renderings
// (triage_render.h) print. Plain data, so both are unit-tested without a
// kernel.
#pragma once

#include "histogram.h"

#include <cstdint>
#include <string>
#include <vector>

namespace corescope::triage {

struct CpuShare { // percent of the CPU's time over the window
    double user = 0, system = 0, iowait = 0, irq = 0, steal = 0, idle = 0;
    double busy() const { return 100.0 - idle - iowait; }
};

struct BusyProcess {
    uint32_t pid = 0;
    std::string comm;
    double cpu_percent = 0; // of one CPU
};

// A process's storage I/O over the window (pidstat -d): bytes it read from
// storage and bytes it dirtied for writing, less the dirtied bytes that
// were truncated away before writeback (cancelled).
struct IoProcess {
    uint32_t pid = 0;
    std::string comm;
    double read_kb_per_s = 0, write_kb_per_s = 0;
    double kb_per_s() const { return read_kb_per_s + write_kb_per_s; }
};

// Reads and writes of one regular file by one process over the window
// (filetop's counting: the system calls' results, cached or not).
struct FileIo {
    uint32_t pid = 0;
    std::string comm;
    std::string file; // its name, not its path
    uint64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0;
    uint64_t bytes() const { return read_bytes + write_bytes; }
    double kb_per_s(uint64_t b, double window_s) const {
        return static_cast<double>(b) / 1024 / (window_s > 0 ? window_s : 1);
    }
};

// Page cache lookups over the window (as cachestat counts them).
struct PageCache {
    bool measured = false;
    uint64_t hits = 0, misses = 0, dirtied = 0; // pages
    double hit_percent() const {
        return hits + misses
                   ? 100.0 * static_cast<double>(hits) / static_cast<double>(hits + misses)
                   : 0;
    }
};

struct Waiter { // time spent runnable but not running
    uint32_t pid = 0;
    std::string comm;
    uint64_t wait_us = 0;
    uint64_t count = 0;
};

struct Disk {
    std::string name;
    double reads_per_s = 0, writes_per_s = 0;
    double read_kb_per_s = 0, write_kb_per_s = 0;
    double util_percent = 0;
    Histogram latency_us = Histogram::log2({}); // from BPF; empty if unavailable
};

struct NetDevice {
    std::string name;
    double rx_kb_per_s = 0, tx_kb_per_s = 0;
    uint64_t rx_drops = 0, tx_drops = 0, rx_errors = 0, tx_errors = 0;
};

struct Tcp {
    uint64_t active_opens = 0, passive_opens = 0, attempt_fails = 0, estab_resets = 0;
    uint64_t out_segs = 0, retrans_segs = 0, out_resets = 0, in_errors = 0;
    double retrans_percent() const {
        return out_segs ? 100.0 * static_cast<double>(retrans_segs) / static_cast<double>(out_segs)
                        : 0;
    }
};

struct NameCount {
    std::string name;
    uint64_t count = 0;
};

struct OomKill {
    uint32_t pid = 0;
    std::string comm;
    uint64_t rss_kb = 0;
    std::string source; // "bpf" or "kernel log"
};

// How far before the window the kernel log section looks: trouble older
// than the longest load average (15 minutes) is rarely what is wrong now,
// and the section says how many older lines there are.
inline constexpr int kernel_log_minutes_before = 15;

struct LogLine {
    double seconds_since_boot = 0;
    std::string kind;
    std::string text;
    bool during_window = false;
};

// Signals that ended (or will end) a process: SIGKILL, or a signal whose
// default action ends it taken with that default.
struct FatalSignal {
    std::string signal; // "SIGKILL"
    std::string target; // the target's command
    uint64_t count = 0;
};

// Time in one interrupt handler over the window, on all CPUs: a hard IRQ
// handler (id: its IRQ number) or a softirq vector (id: the vector).
struct InterruptTime {
    int64_t id = 0;
    std::string name; // "virtio1-req.0", "net_rx"
    uint64_t count = 0;
    uint64_t time_us = 0;
};

// Hard or soft IRQ handlers' time over the window, busiest first.
struct InterruptTimes {
    std::vector<InterruptTime> handlers;
    uint64_t time_us() const;
    // Of the time all CPUs had over window_s seconds.
    double percent_of_cpu(double window_s, unsigned cpus) const;
};

struct Report {
    std::string hostname, kernel, started_at;
    double window_s = 0;
    double uptime_s = 0;
    unsigned cpus = 0;
    double load1 = 0, load5 = 0, load15 = 0;

    CpuShare cpu;
    std::vector<CpuShare> per_cpu;
    std::vector<BusyProcess> busiest;
    double context_switches_per_s = 0;
    InterruptTimes hardirqs, softirqs; // from BPF

    Histogram run_queue_us = Histogram::log2({});
    std::vector<Waiter> waiters;

    uint64_t mem_total_kb = 0, mem_available_kb = 0, swap_total_kb = 0, swap_free_kb = 0;
    uint64_t swap_in_pages = 0, swap_out_pages = 0, major_faults = 0;
    PageCache page_cache; // from BPF
    std::vector<OomKill> oom_kills;
    uint64_t oom_kill_counter = 0; // vmstat oom_kill delta

    std::vector<Disk> disks;
    std::vector<IoProcess> io_busiest; // most kB/s first, at most 10
    std::vector<FileIo> io_files;      // most bytes first, at most 10
    std::vector<NetDevice> net;
    Tcp tcp;

    uint64_t execs = 0;
    std::vector<NameCount> exec_commands; // most frequent first
    uint64_t failed_opens = 0;
    std::vector<NameCount> failed_open_errors;   // "ENOENT", most frequent first
    std::vector<NameCount> failed_open_commands; // most frequent first
    uint64_t fatal_signals = 0;
    std::vector<FatalSignal> fatal_signal_targets; // most frequent first
    uint64_t dns_lookups = 0;
    Histogram dns_latency_us = Histogram::log2({});

    // Packets the kernel dropped (skb:kfree_skb), by its reason ("NO_SOCKET";
    // "unknown" where the kernel gives none), most frequent first.
    uint64_t packet_drops = 0;
    std::vector<NameCount> drop_reasons;
    // Active TCP connects: SYN sent to established (microseconds), and those
    // that failed (refused, timed out).
    Histogram connect_latency_us = Histogram::log2({});
    uint64_t connects_failed = 0;

    // Trouble in the kernel log, oldest first: the lines of the window and
    // of the kernel_log_minutes_before minutes before it.
    std::vector<LogLine> kernel_log;
    uint64_t kernel_log_older = 0;        // trouble lines before those minutes
    bool kernel_log_read = false;         // false: not collected (see unavailable)
    std::vector<std::string> unavailable; // "run-queue latency: <reason>"

    double self_cpu_seconds = 0; // triage's own user+system time, BPF excluded
    double bpf_cpu_seconds = 0;  // time spent in its BPF programs (if measured)
};

// Keeps in r.kernel_log the lines (in the kernel's order, oldest first) of
// the window (during_window) and of the kernel_log_minutes_before minutes
// before its start (window_start_s, in seconds since boot), and counts the
// older ones.
void keep_recent_kernel_log(Report& r, std::vector<LogLine> lines, double window_start_s);

// Number formatting that the findings and the renderings share:
// format_value("%.1f%%", 12.34) is "12.3%"; as_ms(1500) is "1.5 ms";
// top_names({{"a", 3}, {"b", 1}}, 5) is "a (3), b (1)" (names escaped).
std::string format_value(const char* format, double value);
std::string as_ms(uint64_t us);
std::string top_names(const std::vector<NameCount>& items, size_t n);

} // namespace corescope::triage
