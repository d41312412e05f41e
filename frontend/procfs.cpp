#include "procfs.h"
#include "fd.h"
#include "text_file.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>

namespace corescope::procfs {

namespace {

// A kernel text file to parse with >> (text_file.h: no std::ifstream).
std::istringstream open_file(const std::string& path) {
    return std::istringstream(read_text_file(path).value_or(""));
}

CpuTimes parse_cpu_line(std::istringstream& in) {
    CpuTimes t;
    in >> t.user >> t.nice >> t.system >> t.idle >> t.iowait >> t.irq >> t.softirq >> t.steal;
    return t;
}

bool contains(const std::string& text, const char* needle) {
    return text.find(needle) != std::string::npos;
}

} // namespace

CpuTimes operator-(const CpuTimes& a, const CpuTimes& b) {
    auto sub = [](uint64_t x, uint64_t y) { return x > y ? x - y : 0; };
    CpuTimes d;
    d.user = sub(a.user, b.user);
    d.nice = sub(a.nice, b.nice);
    d.system = sub(a.system, b.system);
    d.idle = sub(a.idle, b.idle);
    d.iowait = sub(a.iowait, b.iowait);
    d.irq = sub(a.irq, b.irq);
    d.softirq = sub(a.softirq, b.softirq);
    d.steal = sub(a.steal, b.steal);
    return d;
}

long ticks_per_second() {
    static long hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    return hz;
}

Stat read_stat(const std::string& root) {
    Stat stat;
    std::istringstream in = open_file(root + "/stat");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key;
        fields >> key;
        if (key == "cpu")
            stat.all = parse_cpu_line(fields);
        else if (key.rfind("cpu", 0) == 0)
            stat.per_cpu.push_back(parse_cpu_line(fields));
        else if (key == "ctxt")
            fields >> stat.context_switches;
        else if (key == "processes")
            fields >> stat.forks;
    }
    return stat;
}

LoadAverage read_loadavg(const std::string& root) {
    LoadAverage load;
    std::istringstream in = open_file(root + "/loadavg");
    char slash;
    in >> load.one >> load.five >> load.fifteen >> load.running >> slash >> load.threads;
    return load;
}

double read_uptime_seconds(const std::string& root) {
    double seconds = 0;
    open_file(root + "/uptime") >> seconds;
    return seconds;
}

std::map<std::string, uint64_t> read_meminfo(const std::string& root) {
    return read_name_values(root + "/meminfo");
}

std::map<std::string, uint64_t> read_vmstat(const std::string& root) {
    return read_name_values(root + "/vmstat");
}

std::vector<DiskStats> read_diskstats(const std::string& root) {
    std::vector<DiskStats> disks;
    std::istringstream in = open_file(root + "/diskstats");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        DiskStats d;
        uint64_t read_merges, write_merges, in_flight;
        if (!(fields >> d.major >> d.minor >> d.name >> d.reads >> read_merges >> d.read_sectors >>
              d.read_ms >> d.writes >> write_merges >> d.write_sectors >> d.write_ms >> in_flight >>
              d.io_ticks_ms))
            continue;
        if (access(("/sys/block/" + d.name).c_str(), F_OK) != 0) continue; // a partition
        disks.push_back(d);
    }
    return disks;
}

std::vector<NetDevice> read_net_dev(const std::string& root) {
    std::vector<NetDevice> devices;
    std::istringstream in = open_file(root + "/net/dev");
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        NetDevice d;
        std::istringstream name(line.substr(0, colon));
        name >> d.name;
        std::istringstream fields(line.substr(colon + 1));
        uint64_t skip;
        fields >> d.rx_bytes >> d.rx_packets >> d.rx_errors >> d.rx_drops >> skip >> skip >> skip >>
            skip >> d.tx_bytes >> d.tx_packets >> d.tx_errors >> d.tx_drops;
        if (fields) devices.push_back(d);
    }
    return devices;
}

std::map<std::string, uint64_t> read_tcp_counters(const std::string& root) {
    std::map<std::string, uint64_t> values;
    std::istringstream in = open_file(root + "/net/snmp");
    std::string names, numbers;
    while (std::getline(in, names)) {
        if (names.rfind("Tcp:", 0) != 0 || !std::getline(in, numbers)) continue;
        std::istringstream n(names.substr(4)), v(numbers.substr(4));
        std::string key;
        long long value;
        while (n >> key && v >> value)
            values[key] = value < 0 ? 0 : static_cast<uint64_t>(value);
        break;
    }
    return values;
}

std::map<pid_t, ProcessCounters> read_processes(const std::string& root) {
    std::map<pid_t, ProcessCounters> processes;
    DIR* dir = opendir(root.c_str());
    if (!dir) return processes;
    while (struct dirent* entry = readdir(dir)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0) continue;
        std::istringstream in = open_file(root + "/" + entry->d_name + "/stat");
        std::string text;
        if (!std::getline(in, text)) continue;
        // comm is in parentheses and may itself contain spaces and ')'.
        auto open = text.find('(');
        auto close = text.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        ProcessCounters p;
        p.pid = static_cast<pid_t>(pid);
        p.comm = text.substr(open + 1, close - open - 1);
        std::istringstream fields(text.substr(close + 2));
        std::string field;
        uint64_t utime = 0, stime = 0;
        for (int i = 3; fields >> field; i++) {
            if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
            if (i == 15) {
                stime = std::strtoull(field.c_str(), nullptr, 10);
                break;
            }
        }
        p.ticks = utime + stime;
        // Bytes fetched from and sent to storage on the process's behalf
        // (writes counted when dirtied), as pidstat -d reads them.
        std::istringstream io = open_file(root + "/" + entry->d_name + "/io");
        std::string key;
        uint64_t value = 0;
        while (io >> key >> value) {
            p.has_io = true;
            if (key == "read_bytes:") p.read_bytes = value;
            if (key == "write_bytes:") p.write_bytes = value;
            if (key == "cancelled_write_bytes:") p.cancelled_write_bytes = value;
        }
        processes[p.pid] = p;
    }
    closedir(dir);
    return processes;
}

std::string classify_kernel_log_line(const std::string& text) {
    if (contains(text, "Out of memory") || contains(text, "oom-kill") ||
        contains(text, "oom_reaper") || contains(text, "Memory cgroup out of memory"))
        return "oom_kill";
    if (contains(text, "blocked for more than") || contains(text, "hung_task")) return "hung_task";
    if (contains(text, "I/O error") || contains(text, "Buffer I/O error") ||
        contains(text, "EXT4-fs error") || (contains(text, "XFS") && contains(text, "error")) ||
        contains(text, "critical medium error") || contains(text, "blk_update_request"))
        return "io_error";
    if (contains(text, "segfault at") || contains(text, "general protection fault") ||
        contains(text, "traps:"))
        return "segfault";
    if (contains(text, "soft lockup") || contains(text, "hard LOCKUP") ||
        contains(text, "rcu_sched detected stall") || contains(text, "rcu: INFO"))
        return "lockup";
    if (contains(text, "Kernel panic") || contains(text, "BUG:") || contains(text, "WARNING:") ||
        contains(text, "Oops"))
        return "kernel_bug";
    return {};
}

KernelLog read_kernel_log(const std::string& kmsg) {
    KernelLog log;
    FileDescriptor fd(open(kmsg.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
        log.error = "cannot read " + kmsg + ": " + strerror(errno);
        return log;
    }
    char buf[8192];
    for (;;) {
        ssize_t n = read(fd.get(), buf, sizeof buf - 1);
        if (n < 0) {
            if (errno == EPIPE) continue; // records overwritten while reading: go on
            if (errno != EAGAIN) log.error = "cannot read " + kmsg + ": " + strerror(errno);
            break; // EAGAIN: no more records
        }
        if (n == 0) break;
        // "prio,seq,usecs,flags;text\n" then continuation lines (KEY=value).
        std::string record(buf, static_cast<size_t>(n));
        auto semi = record.find(';');
        if (semi == std::string::npos) continue;
        std::istringstream header(record.substr(0, semi));
        std::string prio, seq, usecs;
        std::getline(header, prio, ',');
        std::getline(header, seq, ',');
        std::getline(header, usecs, ',');
        uint64_t number = std::strtoull(seq.c_str(), nullptr, 10);
        log.next_seq = number + 1;
        std::string text = record.substr(semi + 1);
        if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
        std::string kind = classify_kernel_log_line(text);
        if (kind.empty()) continue;
        log.trouble.push_back({number, std::strtod(usecs.c_str(), nullptr) / 1e6, kind, text});
    }
    return log;
}

} // namespace corescope::procfs
