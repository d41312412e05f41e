// Readers of the kernel's own counters in /proc and /sys, for triage: the
// numbers vmstat, mpstat, iostat, sar and top print, taken at the start and
// the end of the window.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace corescope::procfs {

struct CpuTimes { // USER_HZ ticks
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    uint64_t total() const { return user + nice + system + idle + iowait + irq + softirq + steal; }
};
CpuTimes operator-(const CpuTimes& a, const CpuTimes& b);

struct Stat {
    CpuTimes all;
    std::vector<CpuTimes> per_cpu;
    uint64_t context_switches = 0;
    uint64_t forks = 0;
};
Stat read_stat(const std::string& root = "/proc");

struct LoadAverage {
    double one = 0, five = 0, fifteen = 0;
    unsigned running = 0, threads = 0;
};
LoadAverage read_loadavg(const std::string& root = "/proc");
double read_uptime_seconds(const std::string& root = "/proc");

// "Key: value" files (meminfo in kB) and "key value" files (vmstat).
std::map<std::string, uint64_t> read_meminfo(const std::string& root = "/proc");
std::map<std::string, uint64_t> read_vmstat(const std::string& root = "/proc");

struct DiskStats {
    std::string name;
    unsigned major = 0, minor = 0;
    uint64_t reads = 0, read_sectors = 0, read_ms = 0;
    uint64_t writes = 0, write_sectors = 0, write_ms = 0;
    uint64_t io_ticks_ms = 0; // time with I/O in flight: utilization
};
// Whole disks only (those in /sys/block), not partitions.
std::vector<DiskStats> read_diskstats(const std::string& root = "/proc");

struct NetDevice {
    std::string name;
    uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_drops = 0;
    uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_drops = 0;
};
std::vector<NetDevice> read_net_dev(const std::string& root = "/proc");

// The Tcp: line of /proc/net/snmp (ActiveOpens, PassiveOpens, RetransSegs, ...).
std::map<std::string, uint64_t> read_tcp_counters(const std::string& root = "/proc");

// A process's CPU time and storage I/O so far (pidstat -u and -d).
struct ProcessCounters {
    pid_t pid = 0;
    std::string comm;
    uint64_t ticks = 0;  // utime + stime
    bool has_io = false; // /proc/PID/io was readable
    uint64_t read_bytes = 0, write_bytes = 0, cancelled_write_bytes = 0; // /proc/PID/io
};
std::map<pid_t, ProcessCounters> read_processes(const std::string& root = "/proc");

// Kernel log records that signal trouble: OOM kills, hung tasks, I/O
// errors, segfaults, soft lockups, panics and warnings.
struct KernelLogRecord {
    uint64_t seq = 0;   // the kernel's record number, counting every record
    double seconds = 0; // since boot
    std::string kind;   // oom_kill, hung_task, io_error, segfault, lockup, warning
    std::string text;
};
std::string classify_kernel_log_line(const std::string& text);
struct KernelLog {
    std::vector<KernelLogRecord> trouble; // oldest first
    uint64_t next_seq = 0;                // the number the next record will have
    std::string error;                    // why the log could not be read; empty when it was
};
// Everything the kernel log buffer holds now (non-blocking read of /dev/kmsg).
KernelLog read_kernel_log(const std::string& kmsg = "/dev/kmsg");

long ticks_per_second();

} // namespace corescope::procfs
