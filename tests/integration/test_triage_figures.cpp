// Every section of corescope triage's report against an independent
// measurement of the same window: Debian's sysstat (mpstat, iostat, sar,
// pidstat) and vmstat, run beside it, and the quantities the test's own
// workload knows (bytes it wrote and sent, connections it made, CPU time
// its spinners used, execs, failed opens, I/O requests and the process
// that made them, pages read cold and warm from the page cache).
//
// One window serves every comparison. triage starts first; once its window
// has started, the sysstat commands start, and once each has taken its
// first sample (it then waits in pause() for the next), vmstat -s records
// the kernel's counters and the workload runs. When it is done, vmstat -s
// records them again, triage gets SIGINT and the sysstat commands (sar's
// collector, sadc) SIGALRM, which makes them take their last sample at
// once. All of the workload falls inside every tool's window, so cumulative
// counters agree exactly between tools where nothing else touches them (a
// loop device and a network namespace of the test's own), and elsewhere
// differ only by what the rest of the machine did in the milliseconds where
// the windows do not overlap: that skew is measured, and the tolerances
// against sysstat follow from it.
#include "harness.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <linux/tcp.h> // struct tcp_info with tcpi_bytes_sent (glibc's lacks it)
#include <map>
#include <memory>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <tuple>
#include <unistd.h>

namespace test_triage_figures {

using namespace itest;
using nlohmann::json;

namespace {

// --- reading sysstat's and procps's reports (LC_ALL=C) ----------------------

using Row = std::map<std::string, std::string>;

bool is_column_name(const std::string& word) {
    return word[0] == '%' || (word.size() > 2 && word.compare(word.size() - 2, 2, "/s") == 0);
}

// The "Average:" rows of mpstat, sar and pidstat, keyed by the column names
// of the header line above them ("Average:  CPU  %usr ...").
std::vector<Row> average_rows(const std::string& text) {
    std::vector<Row> rows;
    std::vector<std::string> header;
    for (const std::string& line : lines(text)) {
        std::vector<std::string> f = fields(line);
        if (f.size() < 2 || f[0] != "Average:") continue;
        f.erase(f.begin());
        if (std::any_of(f.begin(), f.end(), is_column_name)) {
            header = f;
            continue;
        }
        if (f.size() != header.size()) continue;
        Row row;
        for (size_t i = 0; i < f.size(); i++)
            row[header[i]] = f[i];
        rows.push_back(row);
    }
    return rows;
}

// The rows under the last header line that starts with first_column
// (iostat's "Device", vmstat's "r").
std::vector<Row> table_rows(const std::string& text, const std::string& first_column) {
    std::vector<Row> rows;
    std::vector<std::string> header;
    for (const std::string& line : lines(text)) {
        std::vector<std::string> f = fields(line);
        if (!f.empty() && f[0] == first_column) {
            header = f;
            rows.clear();
        } else if (!header.empty() && f.size() == header.size()) {
            Row row;
            for (size_t i = 0; i < f.size(); i++)
                row[header[i]] = f[i];
            rows.push_back(row);
        }
    }
    return rows;
}

// The first row whose column holds value (and that has the column
// with_column, for output with several tables: pidstat -u -d).
const Row* row_where(const std::vector<Row>& rows, const std::string& column,
                     const std::string& value, const std::string& with_column = "") {
    for (const Row& r : rows) {
        auto it = r.find(column);
        if (it != r.end() && it->second == value && (with_column.empty() || r.count(with_column)))
            return &r;
    }
    return nullptr;
}

double number(const Row& row, const std::string& column) {
    auto it = row.find(column);
    INFO("column " << column);
    REQUIRE(it != row.end());
    return std::stod(it->second);
}

// MemAvailable as free -k shows it ("available", KiB), and MemTotal.
std::pair<double, double> free_available_and_total_kb(const std::string& text) {
    for (const std::string& line : lines(text)) {
        std::vector<std::string> w = fields(line);
        if (w.size() == 7 && w[0] == "Mem:") return {std::stod(w[6]), std::stod(w[1])};
    }
    FAIL("free -k printed no Mem: line: " << text);
    return {};
}

// vmstat -s: the kernel's counters since boot, by name ("CPU context
// switches", "idle cpu ticks", ...). Taken at both ends of the window, its
// differences are vmstat's figures for exactly the window the test chose.
std::map<std::string, double> vmstat_counters(const std::string& text) {
    std::map<std::string, double> counters;
    for (const std::string& line : lines(text)) {
        std::vector<std::string> w = fields(line);
        if (w.size() < 2) continue;
        std::string name;
        for (size_t i = (w[1] == "K" ? 2 : 1); i < w.size(); i++)
            name += (name.empty() ? "" : " ") + w[i];
        counters[name] = std::stod(w[0]);
    }
    return counters;
}

// Children forked ahead and held just before exec until the test opens the
// gate: then they all start at once, within milliseconds of each other.
class Gate {
  public:
    Gate() { REQUIRE(pipe2(fds_, O_CLOEXEC) == 0); }
    ~Gate() { open(); }
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;
    // In the child (ToolProcess's before_exec): returns once the gate opens.
    void wait_in_child() const {
        close(fds_[1]); // the child's copy; the parent's closes when it opens
        char byte;
        while (read(fds_[0], &byte, 1) > 0) {
        }
    }
    void open() {
        if (fds_[1] < 0) return;
        close(fds_[0]);
        close(fds_[1]);
        fds_[0] = fds_[1] = -1;
    }

  private:
    int fds_[2] = {-1, -1};
};

// Where a command is on PATH (the tests exec programs by path).
std::string command_path(const std::string& name) {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
    for (size_t start = 0; start <= path.size();) {
        size_t colon = path.find(':', start);
        if (colon == std::string::npos) colon = path.size();
        std::string candidate = path.substr(start, colon - start) + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
        start = colon + 1;
    }
    return name;
}

// --- knowing when a sysstat command has taken its first sample --------------

// The system call a process is blocked in (/proc/PID/syscall), or -1.
long blocked_in(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
    long nr = -1;
    in >> nr;
    return in ? nr : -1;
}

// mpstat, iostat, pidstat and sadc take their first sample, then wait for
// SIGALRM in pause() (ppoll on architectures without pause); vmstat sleeps.
bool waiting_for_next_sample(pid_t pid) {
    long nr = blocked_in(pid);
#ifdef SYS_pause
    if (nr == SYS_pause) return true;
#endif
    return nr == SYS_ppoll || nr == SYS_clock_nanosleep || nr == SYS_nanosleep;
}

// The children of pid (sar's collector, sadc).
std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    DIR* proc = opendir("/proc");
    if (!proc) return out;
    while (dirent* e = readdir(proc)) {
        std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
        std::string text;
        if (!std::getline(in, text)) continue;
        auto close = text.rfind(')'); // "pid (comm) state ppid ..."
        if (close == std::string::npos) continue;
        std::istringstream rest(text.substr(close + 1));
        std::string state;
        pid_t ppid = 0;
        if (rest >> state >> ppid && ppid == pid) out.push_back(std::atoi(e->d_name));
    }
    closedir(proc);
    return out;
}

// --- the workload's processes ---------------------------------------------

// A child that waits for go(), does its work, writes what it measured to
// the test, and then lives on until the test lets it go, so that what it
// used stays visible in /proc when the tools take their last sample.
class Worker {
  public:
    explicit Worker(const std::function<void(int report_fd)>& work) {
        REQUIRE(pipe2(gate_, O_CLOEXEC) == 0);
        REQUIRE(pipe2(report_, O_CLOEXEC) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            close(gate_[1]);
            close(report_[0]);
            char byte;
            if (read(gate_[0], &byte, 1) != 1) _exit(1);
            work(report_[1]);
            close(report_[1]);
            while (read(gate_[0], &byte, 1) > 0) {
            }
            _exit(0);
        }
        close(gate_[0]);
        close(report_[1]);
    }
    ~Worker() {
        // Done with it: what it used was read, and the tools have ended
        // (or the test failed, and it may be stuck).
        kill(pid_, SIGKILL);
        close(gate_[1]);
        close(report_[0]);
        waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }
    void go() { REQUIRE(write(gate_[1], "g", 1) == 1); }
    // What the work wrote, once it is done; a default T if it failed.
    template <class T>
    T result() {
        T value{};
        if (read(report_[0], &value, sizeof value) != sizeof value) value = T{};
        return value;
    }

  private:
    pid_t pid_ = -1;
    int gate_[2] = {-1, -1};
    int report_[2] = {-1, -1};
};

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct FileReads {
    size_t bytes = 0, calls = 0;
};

struct CpuUse {
    double total_s = 0, user_s = 0, system_s = 0;
    double before_gate_s = 0; // for the record: what the tools' first samples held
};

double seconds(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// Burns cpu_s of CPU time on one CPU, in user mode (spin) or in the kernel
// (copying from /dev/zero), and writes the CPU time it used since it was
// let go: what it used before (the fork's copy-on-write faults, a few
// milliseconds on a loaded machine) was in every tool's first sample.
void burn(int report_fd, int cpu, bool in_kernel, double cpu_s) {
    double started_s = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    rusage at_start{};
    getrusage(RUSAGE_SELF, &at_start);
    pin_to_cpu(cpu);
    // Ahead of the machine's other work (nice 0), so the burn ends soon even
    // on a busy machine; negative nice is still user time in /proc/stat.
    setpriority(PRIO_PROCESS, 0, -10);
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    static char buffer[1 << 16];
    double until = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) + cpu_s;
    volatile uint64_t spins = 0;
    while (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) < until) {
        if (in_kernel) {
            if (read(zero, buffer, sizeof buffer) < 0) break;
        } else {
            for (int i = 0; i < 100000; i++)
                spins = spins + 1;
        }
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    CpuUse use;
    use.total_s = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - started_s;
    use.before_gate_s = started_s;
    use.user_s = seconds(ru.ru_utime) - seconds(at_start.ru_utime);
    use.system_s = seconds(ru.ru_stime) - seconds(at_start.ru_stime);
    (void)!write(report_fd, &use, sizeof use);
}

// Two threads on one CPU hand a byte back and forth rounds times: every
// hand-over is a wake-up and a context switch.
void ping_pong(int report_fd, int cpu, int rounds) {
    int ping[2], pong[2];
    if (pipe(ping) != 0 || pipe(pong) != 0) return;
    std::thread other([&] {
        pin_to_cpu(cpu);
        char b;
        for (int i = 0; i < rounds; i++)
            if (read(ping[0], &b, 1) != 1 || write(pong[1], &b, 1) != 1) break;
    });
    pin_to_cpu(cpu);
    char b = 'p';
    int done = 0;
    for (; done < rounds; done++)
        if (write(ping[1], &b, 1) != 1 || read(pong[0], &b, 1) != 1) break;
    other.join();
    (void)!write(report_fd, &done, sizeof done);
}

struct Traffic {
    uint64_t arrived = 0;    // at the server
    uint64_t bytes_sent = 0; // by the client, retransmissions included (TCP_INFO)
};

// In ns: connections made, accepted and closed; then one that carries
// bytes from client to server. Writes a Traffic.
void tcp_traffic(int report_fd, const NetNamespace& ns, int connections, size_t bytes) {
    Traffic traffic;
    uint64_t& arrived = traffic.arrived;
    if (!ns.enter()) return;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener, 64) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return;
    for (int i = 0; i <= connections; i++) {
        int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
        int server = accept(listener, nullptr, nullptr);
        if (server < 0) return;
        if (i == connections) { // the last one carries the bytes
            std::thread reader([&] {
                static char in[1 << 16];
                for (ssize_t n; (n = read(server, in, sizeof in)) > 0;)
                    arrived += static_cast<uint64_t>(n);
            });
            static char out[1 << 16];
            for (size_t sent = 0; sent < bytes;) {
                ssize_t n = write(client, out, std::min(sizeof out, bytes - sent));
                if (n <= 0) break;
                sent += static_cast<size_t>(n);
            }
            shutdown(client, SHUT_WR);
            reader.join();
            // On a busy machine an acknowledgement can come late enough for
            // the client to send a segment again: those bytes cross the
            // loopback too.
            tcp_info info{};
            socklen_t info_len = sizeof info;
            if (getsockopt(client, IPPROTO_TCP, TCP_INFO, &info, &info_len) == 0)
                traffic.bytes_sent = info.tcpi_bytes_sent;
        }
        close(client);
        close(server);
    }
    close(listener);
    (void)!write(report_fd, &traffic, sizeof traffic);
}

struct DiskWork {
    bool ok = false;
    double first_s = 0, last_s = 0; // from the first submission to the last completion
    double longest_s = 0;           // the slowest request, as its caller saw it
};

// writes O_DIRECT writes, then reads O_DIRECT reads, of size bytes each,
// through the device: one request each (the requests are smaller than the
// device's largest, and one waits for the other, so none merge).
DiskWork direct_io(const std::string& device, size_t size, int writes, int reads) {
    DiskWork w;
    int fd = open(device.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
    void* buffer = nullptr;
    if (fd < 0 || posix_memalign(&buffer, 4096, size) != 0) return w;
    std::memset(buffer, 'd', size);
    w.first_s = now_s();
    w.ok = true;
    for (int i = 0; w.ok && i < writes + reads; i++) {
        off_t offset = static_cast<off_t>(static_cast<size_t>(i % writes) * size);
        double start = now_s();
        ssize_t done =
            i < writes ? pwrite(fd, buffer, size, offset) : pread(fd, buffer, size, offset);
        w.longest_s = std::max(w.longest_s, now_s() - start);
        w.ok = done == static_cast<ssize_t>(size);
    }
    w.last_s = now_s();
    free(buffer);
    close(fd);
    return w;
}

// Each comparison checked, and kept for a table of what was compared: the
// figures, their difference and the tolerance (printed at the end, to see
// how much room each tolerance leaves).
class Comparisons {
  public:
    // |ours - theirs| <= tolerance.
    void near(const std::string& what, double ours, double theirs, double tolerance) {
        record(what, ours, theirs, std::abs(ours - theirs), tolerance, "~");
        INFO(what << ": triage " << ours << ", reference " << theirs << ", tolerance "
                  << tolerance);
        CHECK(std::abs(ours - theirs) <= tolerance);
    }
    // ours >= bound - tolerance.
    void at_least(const std::string& what, double ours, double bound, double tolerance = 0) {
        record(what, ours, bound, bound - ours, tolerance, ">=");
        INFO(what << ": triage " << ours << ", at least " << bound << " - " << tolerance);
        CHECK(ours >= bound - tolerance);
    }
    // ours <= bound + tolerance.
    void at_most(const std::string& what, double ours, double bound, double tolerance = 0) {
        record(what, ours, bound, ours - bound, tolerance, "<=");
        INFO(what << ": triage " << ours << ", at most " << bound << " + " << tolerance);
        CHECK(ours <= bound + tolerance);
    }
    const std::string& table() const { return table_; }

  private:
    void record(const std::string& what, double ours, double theirs, double off, double tolerance,
                const char* relation) {
        char line[256];
        snprintf(line, sizeof line, "%-44s %12.3f %-2s %12.3f  off %10.3f  tolerance %10.3f\n",
                 what.c_str(), ours, relation, theirs, off, tolerance);
        table_ += line;
    }
    std::string table_;
};

const json* busiest_with_pid(const json& report, pid_t pid) {
    for (const json& p : report.at("busiest"))
        if (p.at("pid") == pid) return &p;
    return nullptr;
}

const json* named(const json& list, const std::string& key, const std::string& name) {
    for (const json& item : list)
        if (item.at(key) == name) return &item;
    return nullptr;
}

} // namespace

TEST_CASE("triage's figures agree with sysstat's and vmstat's over the same window, and with "
          "the workload's own",
          "[triage][sysstat]") {
    REQUIRE_BPF();
    for (const char* command :
         {"mpstat", "iostat", "sar", "pidstat", "vmstat", "free", "ip", "nft", "losetup"}) {
        if (!have_command(command)) {
            WARN("SKIPPED: needs " << command
                                   << " (scripts/setup.sh installs sysstat, procps, iproute2, "
                                      "nftables, util-linux)");
            return;
        }
    }
    double started = now_s();
    // sysstat, vmstat and free print numbers in the C locale's format; their
    // children inherit this.
    setenv("LC_ALL", "C", 1);
    NetNamespace ns("cs-triage-fig");
    REQUIRE(ns.ok());
    std::string netns_path = "/run/netns/" + ns.name();
    auto enter_ns = [&netns_path] {
        int fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) setns(fd, CLONE_NEWNET);
    };
    LoopDisk loop(64 << 20);
    REQUIRE(!loop.path().empty());
    std::string disk = loop.name();
    unsigned max_request_kb = 0;
    std::ifstream("/sys/block/" + disk + "/queue/max_sectors_kb") >> max_request_kb;

    // The CPUs: a user-mode spinner on the first this test may use, a
    // kernel-mode burner and the ping-pong on the last (the same one when
    // there is only one).
    cpu_set_t allowed;
    REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    int first_cpu = -1, last_cpu = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed)) {
            if (first_cpu < 0) first_cpu = c;
            last_cpu = c;
        }

    // MemAvailable differs from MemFree by the reclaimable page cache; a
    // report that read the wrong one must fall outside the tolerance below,
    // so make sure the cache holds at least twice that much (reading a
    // sparse file fills it with clean pages and touches no disk).
    auto [available_kb, total_kb] =
        free_available_and_total_kb(run({command_path("free"), "-k"}).out);
    double memory_slack_kb = std::max(0.01 * total_kb, 64.0 * 1024);
    std::string cache_file = "/var/tmp/" + unique_token("cs-triage-cache");
    std::string exec_dir = "/tmp/" + unique_token("cs-triage-exec");
    std::string read_file = "/var/tmp/" + unique_token("cs-triage-read");
    std::string exec_name = unique_comm("csx");
    struct Cleanup {
        std::function<void()> run;
        ~Cleanup() { run(); }
    } cleanup{[&] {
        unlink(cache_file.c_str());
        unlink(read_file.c_str());
        unlink((exec_dir + "/" + exec_name).c_str());
        rmdir(exec_dir.c_str());
    }};
    {
        std::ifstream meminfo("/proc/meminfo");
        std::map<std::string, double> m;
        for (std::string key, unit; meminfo >> key;) {
            double v;
            meminfo >> v;
            m[key] = v;
            std::getline(meminfo, unit);
        }
        double gap_kb = m["MemAvailable:"] - m["MemFree:"];
        if (gap_kb < 2 * memory_slack_kb) {
            size_t bytes = static_cast<size_t>(2 * memory_slack_kb * 1024);
            int fd = open(cache_file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
            REQUIRE(fd >= 0);
            REQUIRE(ftruncate(fd, static_cast<off_t>(bytes)) == 0);
            static char buf[1 << 20];
            while (read(fd, buf, sizeof buf) > 0) {
            }
            close(fd);
        }
    }

    // The workload's processes exist before any tool starts, so every tool
    // sees them from its first sample.
    const double burn_s = 1.0;
    const int rounds = 10000, connections = 40, execs = 30, failed_opens = 50;
    const size_t bytes = 32 << 20;
    const size_t io_size = 64 << 10;
    REQUIRE(max_request_kb >= io_size / 1024); // one request per read or write
    const int io_writes = 200, io_reads = 120; // different, so that reads read as writes show
    REQUIRE(mkdir(exec_dir.c_str(), 0700) == 0);
    REQUIRE(symlink("/bin/true", (exec_dir + "/" + exec_name).c_str()) == 0);
    std::string opener_name = unique_comm("csf");
    std::string missing = "/tmp/" + unique_token("cs-triage-missing");
    // A file on disk, out of the page cache: the reader reads it once from
    // disk (every page a miss), then warm_reads times from the cache.
    const size_t read_file_pages = 2048;
    const int warm_reads = 8;
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    {
        int fd = open(read_file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        std::vector<char> chunk(1 << 20, 'r');
        for (size_t done = 0; done < read_file_pages * page; done += chunk.size())
            REQUIRE(write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size()));
        REQUIRE(fsync(fd) == 0);
        REQUIRE(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
        close(fd);
    }

    Worker spinner([&](int fd) { burn(fd, first_cpu, false, burn_s); });
    Worker burner([&](int fd) { burn(fd, last_cpu, true, burn_s); });
    Worker pinger([&](int fd) { ping_pong(fd, last_cpu, rounds); });
    Worker network([&](int fd) { tcp_traffic(fd, ns, connections, bytes); });
    Worker execer([&](int fd) {
        int made = 0;
        std::string path = exec_dir + "/" + exec_name;
        for (int i = 0; i < execs; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                execl(path.c_str(), exec_name.c_str(), nullptr);
                _exit(127);
            }
            int status = 0;
            if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                made++;
        }
        (void)!write(fd, &made, sizeof made);
    });
    Worker opener([&](int fd) {
        prctl(PR_SET_NAME, opener_name.c_str());
        int failed = 0;
        for (int i = 0; i < failed_opens; i++)
            if (open(missing.c_str(), O_RDONLY | O_CLOEXEC) < 0 && errno == ENOENT) failed++;
        (void)!write(fd, &failed, sizeof failed);
    });
    // The disk I/O in a process of its own, so that its storage I/O
    // (/proc/PID/io, pidstat -d) is exactly the workload's.
    Worker disker([&](int fd) {
        DiskWork work = direct_io(loop.path(), io_size, io_writes, io_reads);
        (void)!write(fd, &work, sizeof work);
    });
    Worker reader([&](int fd) {
        FileReads done;
        std::vector<char> buffer(1 << 20);
        for (int round = 0; round < 1 + warm_reads; round++) {
            int file = open(read_file.c_str(), O_RDONLY | O_CLOEXEC);
            for (ssize_t n = 1; file >= 0 && n > 0;) {
                n = read(file, buffer.data(), buffer.size());
                if (n < 0) break;
                done.calls++; // the read at the end of the file too
                done.bytes += static_cast<size_t>(n);
            }
            if (file >= 0) close(file);
        }
        (void)!write(fd, &done, sizeof done);
    });

    // The commands are forked ahead and held at a gate: vmstat -s and free
    // for the end, then the sysstat commands and vmstat -s for the start
    // (in that order: a child holds the gates made before it until it
    // execs, so the start's must not be held by the end's children).
    Gate end_gate;
    // They run ahead of the machine's other work (nice -10), so that each
    // takes its samples as soon as it is told to, even on a busy machine.
    auto held = [&](Gate& gate, std::vector<std::string> argv) {
        argv[0] = command_path(argv[0]);
        return std::make_unique<ToolProcess>(argv, ToolProcess::Stdout::pipe, [&gate, &enter_ns] {
            enter_ns();
            setpriority(PRIO_PROCESS, 0, -10);
            gate.wait_in_child();
        });
    };
    auto vmstat_at_end = held(end_gate, {"vmstat", "-s"});
    auto free_at_end = held(end_gate, {"free", "-k"});
    Gate start_gate;
    // Each waits 60 s for its second sample unless SIGALRM comes first.
    auto mpstat = held(start_gate, {"mpstat", "-P", "ALL", "60", "1"});
    auto iostat = held(start_gate, {"iostat", "-x", "-y", "-d", disk, "60", "1"});
    auto pidstat =
        held(start_gate, {"pidstat", "-u", "-d", "-p",
                          std::to_string(spinner.pid()) + "," + std::to_string(burner.pid()) + "," +
                              std::to_string(disker.pid()),
                          "60", "1"});
    auto sar = held(start_gate, {"sar", "-n", "DEV,TCP,ETCP", "60", "1"});
    auto vmstat_at_start = held(start_gate, {"vmstat", "-s"});
    // triage, in the namespace (its TCP counters and interfaces are the
    // namespace's; CPU, memory and disks are the machine's). -v says when
    // its window starts; then the gate opens for the others.
    ToolProcess triage({tool_path("corescope"), "triage", "-v", "-o", "json", "-d", "120"},
                       ToolProcess::Stdout::pipe, enter_ns);
    REQUIRE(triage.wait_for_error_output("triage: window started at ", 60));
    // When triage took its first sample, on the monotonic clock (now_s's).
    double triage_started = 0;
    {
        std::string err = triage.error_output_so_far();
        triage_started = std::stod(err.substr(err.find("triage: window started at ") + 26));
    }

    start_gate.open();
    pid_t sadc = -1;
    for (double deadline = now_s() + 30; now_s() < deadline;) {
        auto children = children_of(sar->pid());
        sadc = children.empty() ? -1 : children[0];
        if (sadc > 0 && waiting_for_next_sample(sadc) && waiting_for_next_sample(mpstat->pid()) &&
            waiting_for_next_sample(iostat->pid()) && waiting_for_next_sample(pidstat->pid()))
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE(sadc > 0);
    std::map<std::string, double> vmstat_start = vmstat_counters(vmstat_at_start->wait(30).out);
    double all_sampling = now_s();

    // The workload, all of it between the first samples and the last. The
    // window lasts as long as it takes: a few seconds here, more on a
    // machine whose CPUs are shared with heavier work.
    for (Worker* w : {&spinner, &burner, &pinger, &network, &execer, &opener, &disker, &reader})
        w->go();
    Ports retransmitted;
    std::thread retransmit_thread([&] { retransmitted = provoke_retransmissions(ns, 500); });
    CpuUse spun = spinner.result<CpuUse>(), burnt = burner.result<CpuUse>();
    int pinged = pinger.result<int>();
    Traffic traffic = network.result<Traffic>();
    int execed = execer.result<int>(), failed = opener.result<int>();
    DiskWork io = disker.result<DiskWork>();
    FileReads file_reads = reader.result<FileReads>();
    size_t bytes_read = file_reads.bytes;
    retransmit_thread.join();
    double workload_done = now_s();
    REQUIRE(io.ok);
    REQUIRE(retransmitted.server != 0);
    REQUIRE(pinged == rounds);
    REQUIRE(traffic.arrived == bytes);
    REQUIRE(traffic.bytes_sent >= bytes);
    REQUIRE(execed == execs);
    REQUIRE(failed == failed_opens);
    REQUIRE(bytes_read == (1 + warm_reads) * read_file_pages * page);

    // The window lasts at least 4 s, so that the skew between the tools'
    // windows (a few hundred milliseconds at most, measured below) is a
    // small share of it.
    while (now_s() < all_sampling + 4)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));

    // The end: every tool's last sample at once, vmstat -s's and free's.
    double window_ending = now_s();
    end_gate.open();
    kill(triage.pid(), SIGINT);
    for (pid_t pid : {mpstat->pid(), iostat->pid(), pidstat->pid(), sadc})
        kill(pid, SIGALRM);
    std::map<std::string, double> vmstat_end = vmstat_counters(vmstat_at_end->wait(30).out);
    double available_before_kb = free_available_and_total_kb(free_at_end->wait(30).out).first;
    REQUIRE(triage.wait_for_error_output("triage: window ended at ", 60));
    Finished mp = mpstat->wait(30), io_out = iostat->wait(30), pid_out = pidstat->wait(30),
             sar_out = sar->wait(30);
    double last_sample_by = now_s();
    Finished tri = triage.wait(60);
    double available_after_kb =
        free_available_and_total_kb(run({command_path("free"), "-k"}).out).first;
    if (tri.exit_code != 0)
        FAIL("triage exited " << tri.exit_code << ": "
                              << tri.err.substr(tri.err.size() > 2000 ? tri.err.size() - 2000 : 0));
    for (const Finished* f : {&mp, &io_out, &pid_out, &sar_out}) {
        INFO(f->out << f->err);
        REQUIRE(f->exit_code == 0);
    }
    json report = json::parse(tri.out);
    double W = report.at("window_s").get<double>();

    // How far apart the tools' windows may lie. Their first samples: triage's
    // when it says, the others' after that and before they were all seen
    // waiting and vmstat -s had exited. Their last: from the end of the
    // workload on, until triage said "window ended" and the others exited.
    double skew_s = (all_sampling - triage_started) + (last_sample_by - window_ending);
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK)) * W;
    Comparisons c;
    std::string context = "window " + std::to_string(W) + " s, skew between the windows at most " +
                          std::to_string(skew_s) + " s (start " +
                          std::to_string(all_sampling - triage_started) + " s, end " +
                          std::to_string(last_sample_by - window_ending) + " s), workload " +
                          std::to_string(workload_done - all_sampling) + " s, whole test " +
                          std::to_string(now_s() - started) + " s";
    INFO(context);
    REQUIRE(skew_s < W / 4); // else nothing below can be compared
    // sysstat measures its interval on /proc/uptime, in hundredths of a
    // second: its rates may be over a window up to 20 ms off besides.
    double rate_skew_s = skew_s + 0.02;

    // --- CPU: per CPU, as mpstat shows it; the burners' own time ---------
    std::vector<Row> mp_rows = average_rows(mp.out);
    const json& per_cpu = report.at("per_cpu");
    // A share of one CPU's time over the window: the windows differ by at
    // most skew_s, in which a CPU may spend all its time in one state, so a
    // share may differ by 100 * skew_s / W percentage points; each share is
    // also a ratio of counts in ticks of 10 ms (USER_HZ), read twice by each
    // tool: 4 ticks of the window's. A per-CPU share divided by all CPUs'
    // time (half of it on two CPUs), user and system swapped, or idle and
    // iowait confused are off by far more on this machine's busy CPUs, and
    // by the burners' 20% below on a quiet one.
    double share_tolerance = 100.0 * skew_s / W + 100.0 * 4 / ticks;
    for (size_t cpu = 0; cpu < per_cpu.size(); cpu++) {
        const Row* row = row_where(mp_rows, "CPU", std::to_string(cpu));
        if (!row) continue; // offline
        std::string name = "cpu" + std::to_string(cpu);
        const json& share = per_cpu[cpu];
        c.near(name + " user % (mpstat %usr+%nice)", share.at("user").get<double>(),
               number(*row, "%usr") + number(*row, "%nice"), share_tolerance);
        c.near(name + " system % (mpstat %sys)", share.at("system").get<double>(),
               number(*row, "%sys"), share_tolerance);
        c.near(name + " iowait % (mpstat %iowait)", share.at("iowait").get<double>(),
               number(*row, "%iowait"), share_tolerance);
        c.near(name + " idle % (mpstat %idle)", share.at("idle").get<double>(),
               number(*row, "%idle"), share_tolerance);
    }
    const Row* all_cpus = row_where(mp_rows, "CPU", "all");
    REQUIRE(all_cpus);
    c.near("all CPUs user % (mpstat)", report.at("cpu").at("user").get<double>(),
           number(*all_cpus, "%usr") + number(*all_cpus, "%nice"), share_tolerance);
    c.near("all CPUs system % (mpstat)", report.at("cpu").at("system").get<double>(),
           number(*all_cpus, "%sys"), share_tolerance);
    c.near("all CPUs idle % (mpstat)", report.at("cpu").at("idle").get<double>(),
           number(*all_cpus, "%idle"), share_tolerance);
    // Ground truth: the spinner spent spun.user_s in user mode on the first
    // CPU, the burner burnt.system_s in the kernel on the last, all inside
    // the window. A tick (4 ms at HZ 250) charges the CPU's whole interval
    // to whatever runs when it fires, so over a second shared with other
    // tasks the count can fall short by some tens of milliseconds: allow
    // 150 ms, 3 points of the window. Half the spinner's 20% would be
    // 10 points short.
    CHECK(spun.user_s >= 0.8 * burn_s);    // a spinner spins in user mode
    CHECK(burnt.system_s >= 0.5 * burn_s); // copying from /dev/zero is the kernel's work
    double sampling = 100.0 * 0.15 / W;
    c.at_least("spinner's CPU user % (its user time)", per_cpu[first_cpu].at("user").get<double>(),
               100.0 * spun.user_s / W, sampling);
    c.at_least("burner's CPU system % (its system time)",
               per_cpu[last_cpu].at("system").get<double>(), 100.0 * burnt.system_s / W, sampling);

    // --- busiest processes: the burners, as pidstat shows them -----------
    std::vector<Row> pid_rows = average_rows(pid_out.out);
    for (auto [pid, use, name] :
         {std::tuple{spinner.pid(), spun, "spinner"}, std::tuple{burner.pid(), burnt, "burner"}}) {
        INFO(name << ", PID " << pid << ", CPU time before the gate " << use.before_gate_s << " s");
        const json* p = busiest_with_pid(report, pid);
        REQUIRE(p);
        const Row* row = row_where(pid_rows, "PID", std::to_string(pid), "%CPU");
        REQUIRE(row);
        double percent = p->at("cpu_percent").get<double>();
        // Both read the process's CPU time in ticks at both ends, and it ran
        // only inside both windows: the same time over windows rate_skew_s
        // apart, and pidstat's two decimals against our one.
        c.near(std::string(name) + " % of a CPU (pidstat %CPU)", percent, number(*row, "%CPU"),
               percent * rate_skew_s / W + 0.06);
        // Against the process's own clock: /proc/PID/stat gives user and
        // system time each cut down to a tick (10 ms), so each reading is
        // up to 20 ms short and the difference of two is within 20 ms
        // either way (a loaded run saw 24 ms short when the clock still
        // counted the time before the gate); its wake-up and report, outside
        // its clock, are microseconds; the percentage has one decimal.
        // Percent of all CPUs, or ticks read at the wrong rate, are off by a
        // factor.
        c.near(std::string(name) + " CPU seconds (its own clock)", percent * W / 100, use.total_s,
               0.02 + 0.002 + 0.0005 * W);
    }

    // --- context switches and all CPUs, as vmstat shows them --------------
    auto vmstat_delta = [&](const std::string& name) {
        INFO("vmstat -s: " << name);
        REQUIRE(vmstat_start.count(name));
        REQUIRE(vmstat_end.count(name));
        return vmstat_end[name] - vmstat_start[name];
    };
    double switches = report.at("context_switches_per_s").get<double>() * W;
    double vm_switches = vmstat_delta("CPU context switches");
    // The ping-pong alone made 2 switches a round inside the window.
    c.at_least("context switches (ping-pong's 2 a round)", switches, 2.0 * rounds);
    // The windows differ by skew_s, in which the machine switched at about
    // its rate in the window: allow twice that rate, for bursts, and the
    // rate's rounding. Another counter (forks, interrupts) or the wrong
    // divisor is off by far more.
    c.near("context switches (vmstat -s)", switches, vm_switches,
           2 * std::max(switches, vm_switches) * skew_s / W + 0.5 * W);
    // vmstat -s's CPU ticks of all CPUs, as shares of their sum.
    double user_ticks =
        vmstat_delta("non-nice user cpu ticks") + vmstat_delta("nice user cpu ticks");
    double system_ticks = vmstat_delta("system cpu ticks");
    double idle_ticks = vmstat_delta("idle cpu ticks");
    double all_ticks = user_ticks + system_ticks + idle_ticks + vmstat_delta("IO-wait cpu ticks") +
                       vmstat_delta("IRQ cpu ticks") + vmstat_delta("softirq cpu ticks") +
                       vmstat_delta("stolen cpu ticks");
    REQUIRE(all_ticks > 0);
    c.near("all CPUs user % (vmstat -s ticks)", report.at("cpu").at("user").get<double>(),
           100 * user_ticks / all_ticks, share_tolerance);
    c.near("all CPUs system % (vmstat -s ticks)", report.at("cpu").at("system").get<double>(),
           100 * system_ticks / all_ticks, share_tolerance);
    c.near("all CPUs idle % (vmstat -s ticks)", report.at("cpu").at("idle").get<double>(),
           100 * idle_ticks / all_ticks, share_tolerance);
    // Swapping, in pages (none on a machine without swap), within what the
    // machine swapped in the skew at twice its rate in the window.
    for (auto [field, name] : {std::pair{"swap_in_pages", "pages swapped in"},
                               std::pair{"swap_out_pages", "pages swapped out"}}) {
        double ours = report.at("memory").at(field).get<double>(), theirs = vmstat_delta(name);
        c.near(std::string(name) + " (vmstat -s)", ours, theirs,
               2 * std::max(ours, theirs) * skew_s / W);
    }

    // --- run-queue latency: at least the ping-pong's wake-ups ------------
    // Each hand-over wakes the other thread, which then waits its turn on
    // the shared CPU: one sample each, 2 a round.
    c.at_least("run-queue latency samples (ping-pong's 2 a round)",
               report.at("run_queue_latency").at("total").get<double>(), 2.0 * rounds);

    // --- memory available, as free shows it at the end -------------------
    double available = report.at("memory").at("available_kb").get<double>();
    // triage reads it after its last sample; free ran as the window ended
    // and again once triage had exited. Within those two, give or take
    // memory_slack_kb (1% of memory, at least 64 MiB) for what other
    // processes did in between. The page cache holds at least twice that
    // (made so above), so MemFree instead fails, as does MemTotal or
    // another unit.
    c.at_least("memory available kB (free, before/after)", available,
               std::min(available_before_kb, available_after_kb), memory_slack_kb);
    c.at_most("memory available kB (free, before/after)", available,
              std::max(available_before_kb, available_after_kb), memory_slack_kb);
    c.near("memory total kB (free)", report.at("memory").at("total_kb").get<double>(), total_kb, 0);

    // --- disk: the loop device, as iostat shows it; the I/O made ---------
    const json* d = named(report.at("disks"), "name", disk);
    REQUIRE(d);
    std::vector<Row> io_rows = table_rows(io_out.out, "Device");
    const Row* io_row = row_where(io_rows, "Device", disk);
    REQUIRE(io_row);
    // Ground truth: only the workload used the device, all of it inside the
    // window, so a rate times the window is the count, to the rounding of
    // the rate's one decimal and the window's three.
    auto counted = [&](double rate) { return 0.05 * W + 0.0005 * rate; };
    double kib = static_cast<double>(io_size) / 1024;
    double w_s = d->at("writes_per_s").get<double>(), r_s = d->at("reads_per_s").get<double>();
    double wkb_s = d->at("write_kb_per_s").get<double>(),
           rkb_s = d->at("read_kb_per_s").get<double>();
    c.near("disk writes (O_DIRECT writes made)", w_s * W, io_writes, counted(w_s));
    c.near("disk reads (O_DIRECT reads made)", r_s * W, io_reads, counted(r_s));
    c.near("disk kB written (bytes written)", wkb_s * W, io_writes * kib, counted(wkb_s));
    c.near("disk kB read (bytes read)", rkb_s * W, io_reads * kib, counted(rkb_s));
    // iostat counted the same requests over a window up to rate_skew_s
    // longer or shorter; it prints two decimals, we one.
    auto rate_tolerance = [&](double a, double b) {
        return std::max(a, b) * rate_skew_s / W + 0.06;
    };
    c.near("disk w/s (iostat)", w_s, number(*io_row, "w/s"),
           rate_tolerance(w_s, number(*io_row, "w/s")));
    c.near("disk r/s (iostat)", r_s, number(*io_row, "r/s"),
           rate_tolerance(r_s, number(*io_row, "r/s")));
    c.near("disk wkB/s (iostat)", wkb_s, number(*io_row, "wkB/s"),
           rate_tolerance(wkb_s, number(*io_row, "wkB/s")));
    c.near("disk rkB/s (iostat)", rkb_s, number(*io_row, "rkB/s"),
           rate_tolerance(rkb_s, number(*io_row, "rkB/s")));
    // Utilization: the device's busy time (ms, /proc/diskstats) over the
    // window, the same busy time for both tools; at most the span of the
    // workload's I/O plus a jiffy (10 ms at most) of rounding and our one
    // decimal. A divisor of 1000 instead of 10 would be 100 times off.
    double util = d->at("util_percent").get<double>();
    c.near("disk %util (iostat)", util, number(*io_row, "%util"),
           rate_tolerance(util, number(*io_row, "%util")));
    c.at_most("disk busy seconds (span of the I/O)", util * W / 100, io.last_s - io.first_s,
              0.01 + 0.0005 * W);
    // Not zero where iostat saw the device busy: a loop device over the page
    // cache can serve the 320 requests in under 2 ms, which both show as 0.0.
    if (number(*io_row, "%util") >= 0.1) CHECK(util > 0);
    // I/O latency from BPF: one sample per request, none longer than its
    // caller saw (a log2 bucket's upper bound is less than twice a value in
    // it).
    const json& latency = d->at("latency");
    c.near("disk latency samples (requests made)", latency.at("total").get<double>(),
           io_writes + io_reads, 0);
    c.at_most("disk latency p99 us (2x the slowest call)", latency.at("p99").get<double>(),
              2 * io.longest_s * 1e6);

    // --- storage I/O by process: the disk worker, as pidstat -d shows it --
    // Ground truth: it read and wrote through O_DIRECT, bytes counted as
    // they were submitted, all inside the window; it did nothing else. Read
    // and write swapped, or page cache reads (rchar) counted instead, fail.
    const json* io_process = nullptr;
    for (const json& p : report.at("io_busiest"))
        if (p.at("pid") == disker.pid()) io_process = &p;
    REQUIRE(io_process);
    double rd_kb_s = io_process->at("read_kb_per_s").get<double>();
    double wr_kb_s = io_process->at("write_kb_per_s").get<double>();
    c.near("disk worker kB read (its reads)", rd_kb_s * W, io_reads * kib, counted(rd_kb_s));
    c.near("disk worker kB written (its writes)", wr_kb_s * W, io_writes * kib, counted(wr_kb_s));
    const Row* io_pid_row = row_where(pid_rows, "PID", std::to_string(disker.pid()), "kB_rd/s");
    REQUIRE(io_pid_row);
    c.near("disk worker kB_rd/s (pidstat -d)", rd_kb_s, number(*io_pid_row, "kB_rd/s"),
           rate_tolerance(rd_kb_s, number(*io_pid_row, "kB_rd/s")));
    c.near("disk worker kB_wr/s (pidstat -d)", wr_kb_s, number(*io_pid_row, "kB_wr/s"),
           rate_tolerance(wr_kb_s, number(*io_pid_row, "kB_wr/s")));

    // --- page cache: the reader's cold read missed, its warm reads hit ----
    // Counted machine-wide, so only bounds: every page of the cold read a
    // miss; the warm reads' pages hits, less what other processes' misses
    // took from the hits (hits are lookups less misses): allow half of
    // them. Hits and misses swapped fail the first bound, as do misses
    // counted in bytes the second.
    const json& memory = report.at("memory");
    REQUIRE(memory.at("page_cache").is_object());
    double hits = memory.at("page_cache").at("hits").get<double>();
    double misses = memory.at("page_cache").at("misses").get<double>();
    c.at_least("page cache hits (warm reads' pages / 2)", hits, warm_reads * read_file_pages / 2.0);
    c.at_least("page cache misses (cold read's pages)", misses, read_file_pages);
    c.at_least("page cache lookups (all reads' pages)", hits + misses,
               (1 + warm_reads) * read_file_pages);
    c.near("page cache hit % (its hits and misses)",
           memory.at("page_cache_hit_percent").get<double>(), 100 * hits / (hits + misses), 0.05);

    // --- files by reads and writes: the reader's file, exactly ----------
    // Ground truth: the reader's read() calls and their results, all inside
    // the window, on one regular file. Bytes from the page cache count (a
    // storage-only count would hold the cold read's alone); reads and writes
    // swapped, or the calls counted at entry with the asked-for size (1 MiB,
    // the end-of-file read too), fail.
    const json* file_row = nullptr;
    for (const json& f : report.at("io_files"))
        if (f.at("pid") == reader.pid()) file_row = &f;
    INFO("io_files: " << report.at("io_files").dump());
    REQUIRE(file_row);
    CHECK(file_row->at("file") == read_file.substr(read_file.rfind('/') + 1));
    CHECK(file_row->at("read_bytes") == file_reads.bytes);
    CHECK(file_row->at("reads") == file_reads.calls);
    CHECK(file_row->at("writes") == 0);
    CHECK(file_row->at("write_bytes") == 0);

    // --- network: the namespace's loopback, as sar shows it; bytes sent --
    std::vector<Row> sar_rows = average_rows(sar_out.out);
    const Row* opens = nullptr;
    const Row* errors = nullptr;
    for (const Row& r : sar_rows) {
        if (r.count("active/s")) opens = &r;
        if (r.count("retrans/s")) errors = &r;
    }
    REQUIRE(opens);
    REQUIRE(errors);
    const Row* lo = row_where(sar_rows, "IFACE", "lo");
    REQUIRE(lo);
    const json* n = named(report.at("network"), "name", "lo");
    REQUIRE(n);
    // Everything on this namespace's loopback is the workload's: the bytes
    // the client sent (retransmissions included), the retransmitting
    // connection's 1000 bytes (sent once, then once per retransmit: at most
    // sar's count of them all), and each packet's IPv4 and TCP headers (20
    // to 60 bytes each; the loopback counts no Ethernet header) for the
    // packets sar counted. The headers come to well under 1% of 32 MiB; a
    // kB of 1000 bytes instead of 1024 is 2.4% off.
    double packets = number(*lo, "rxpck/s") * (W + rate_skew_s) + 1;
    double payload = static_cast<double>(traffic.bytes_sent);
    double most_payload =
        payload + 1000 * (1 + number(*errors, "retrans/s") * (W + rate_skew_s) + 1);
    INFO("packets on lo: at most " << packets << "; client sent " << payload << " bytes");
    for (const char* direction : {"rx_kb_per_s", "tx_kb_per_s"}) {
        double rate = n->at(direction).get<double>();
        std::string what = std::string("lo ") + direction + " x window, bytes";
        c.at_least(what + " (client's bytes)", rate * W * 1024, payload, counted(rate) * 1024);
        c.at_most(what + " (all bytes + headers)", rate * W * 1024,
                  most_payload + packets * (60 + 60), counted(rate) * 1024);
    }
    c.near("lo rxkB/s (sar)", n->at("rx_kb_per_s").get<double>(), number(*lo, "rxkB/s"),
           rate_tolerance(n->at("rx_kb_per_s").get<double>(), number(*lo, "rxkB/s")));
    c.near("lo txkB/s (sar)", n->at("tx_kb_per_s").get<double>(), number(*lo, "txkB/s"),
           rate_tolerance(n->at("tx_kb_per_s").get<double>(), number(*lo, "txkB/s")));

    // --- TCP in the namespace, as sar shows it; the connections made -----
    const json& tcp = report.at("tcp");
    // Exact: the namespace saw the workload's connections (40, one that
    // carried the bytes, one that retransmitted), each opened actively by
    // its client and passively by its server, and nothing else.
    c.near("TCP active opens (connects made)", tcp.at("active_opens").get<double>(),
           connections + 2, 0);
    c.near("TCP passive opens (accepts made)", tcp.at("passive_opens").get<double>(),
           connections + 2, 0);
    c.at_least("TCP retransmits (one connection's, dropped)", tcp.at("retrans_segs").get<double>(),
               1);
    // sar counted the same over its window: its rate times ours is the
    // count, within the windows' difference and its two decimals.
    auto sar_count = [&](const std::string& what, const char* field, const Row& row,
                         const char* column) {
        double count = tcp.at(field).get<double>();
        c.near(what, number(row, column) * W, count, count * rate_skew_s / W + 0.005 * W + 0.5);
    };
    sar_count("TCP active opens (sar active/s x window)", "active_opens", *opens, "active/s");
    sar_count("TCP passive opens (sar passive/s x window)", "passive_opens", *opens, "passive/s");
    sar_count("TCP segments out (sar oseg/s x window)", "out_segs", *opens, "oseg/s");
    sar_count("TCP retransmits (sar retrans/s x window)", "retrans_segs", *errors, "retrans/s");
    sar_count("TCP failed attempts (sar atmptf/s x window)", "attempt_fails", *errors, "atmptf/s");
    sar_count("TCP resets sent (sar orsts/s x window)", "out_resets", *errors, "orsts/s");

    // --- new processes and failed opens, by the workload's unique names --
    const json* e = named(report.at("exec_commands"), "name", exec_name);
    REQUIRE(e);
    c.near("execs of " + exec_name + " (made)", e->at("count").get<double>(), execs, 0);
    const json* f = named(report.at("failed_open_commands"), "name", opener_name);
    REQUIRE(f);
    c.near("failed opens by " + opener_name + " (made)", f->at("count").get<double>(), failed_opens,
           0);
    const json* enoent = named(report.at("failed_open_errors"), "name", "ENOENT");
    REQUIRE(enoent);
    c.at_least("failed opens with ENOENT", enoent->at("count").get<double>(), failed_opens);

    WARN("triage against sysstat, vmstat and the workload: " << context << "\n" << c.table());
}

} // namespace test_triage_figures
