// Load: a workload that makes events faster than the tool can print them,
// to a reader that stalls. The tool must count and report every event it
// lost (printed + lost = made, exactly), never hold up the traced workload
// (the kernel side drops when its buffer is full, it never waits), and keep
// its memory flat however long this goes on.
#include "harness.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace test_load {

using namespace itest;
using nlohmann::json;

namespace {

// The sanitize suite runs this binary against sanitized tools, with
// ASAN_OPTIONS set (tests/sanitize/run.sh).
bool tools_sanitized() {
    return std::getenv("ASAN_OPTIONS") != nullptr;
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// A child that, once told to go, fails `count` opens of distinct missing
// paths as fast as it can, then reports the longest single open (ns).
class OpenBurst {
  public:
    OpenBurst(const std::string& token, int count) {
        if (pipe(go_) != 0 || pipe(result_) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            char c;
            if (read(go_[0], &c, 1) != 1) _exit(1);
            // Long names fill the kernel's buffer sooner.
            std::string base = "/tmp/" + token + "-" + std::string(160, 'p') + "-";
            long long longest = 0;
            for (int i = 0; i < count; i++) {
                std::string path = base + std::to_string(i);
                auto t0 = std::chrono::steady_clock::now();
                int fd = open(path.c_str(), O_RDONLY);
                auto took = std::chrono::steady_clock::now() - t0;
                if (fd >= 0) _exit(2);
                longest = std::max<long long>(
                    longest, std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
            }
            if (write(result_[1], &longest, sizeof longest) != sizeof longest) _exit(3);
            _exit(0);
        }
        close(go_[0]);
        close(result_[1]);
    }
    ~OpenBurst() {
        close(go_[1]);
        close(result_[0]);
        if (pid_ > 0 && !reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    void go() {
        if (write(go_[1], "g", 1) != 1) throw std::runtime_error("write failed");
    }
    // Waits for the burst to end; false if it did not within timeout_s.
    bool finish(double timeout_s, long long& longest_ns, double& took_s) {
        double start = now_s();
        for (;;) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                reaped_ = true;
                took_s = now_s() - start;
                return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                       read(result_[0], &longest_ns, sizeof longest_ns) == sizeof longest_ns;
            }
            if (now_s() - start > timeout_s) return false;
            usleep(5000);
        }
    }

  private:
    int go_[2];
    int result_[2];
    pid_t pid_ = -1;
    bool reaped_ = false;
};

// Reads what the tool printed until it has been quiet for quiet_s.
void drain(ToolProcess& p, double quiet_s) {
    size_t seen = p.output_so_far().size();
    double quiet_since = now_s();
    while (now_s() - quiet_since < quiet_s) {
        usleep(50000);
        size_t now = p.output_so_far().size();
        if (now != seen) {
            seen = now;
            quiet_since = now_s();
        }
    }
}

void stalled_reader_accounts_for_every_event(bool as_json, bool perf_buffer) {
    constexpr int per_burst = 120000;
    constexpr int bursts = 2;
    std::string token = unique_token("load");
    std::vector<std::unique_ptr<OpenBurst>> workloads;
    for (int i = 0; i < bursts; i++)
        workloads.push_back(
            std::make_unique<OpenBurst>(token + "-" + std::to_string(i), per_burst));
    std::vector<std::string> argv = {tool_path("opensnoop")};
    for (auto& w : workloads)
        argv.insert(argv.end(), {"-p", std::to_string(w->pid())});
    if (as_json) argv.insert(argv.end(), {"-o", "json"});
    ToolProcess p(argv, ToolProcess::Stdout::pipe, [perf_buffer] {
        if (perf_buffer) setenv("CORESCOPE_PERF_BUFFER", "1", 1);
    });
    REQUIRE(p.wait_attached());

    std::vector<long> rss_after;
    for (auto& w : workloads) {
        // Nobody reads the tool's output while the burst runs: the pipe
        // fills, the tool blocks in write(), its kernel buffer fills.
        w->go();
        long long longest_ns = 0;
        double took_s = 0;
        REQUIRE(w->finish(60, longest_ns, took_s));
        INFO("burst of " << per_burst << " opens took " << took_s << " s, the longest open "
                         << longest_ns / 1000 << " us");
        // The burst ran to its end with its reader stalled: the tool never
        // held it up. Even on a busy machine no open waits a second.
        CHECK(longest_ns < 1000000000LL);
        drain(p, 2.0);
        rss_after.push_back(rss_kib(p.pid()));
    }
    Finished r = p.stop(SIGINT, 30);
    CHECK(r.exit_code == 0);

    uint64_t printed = 0;
    uint64_t lost_records = 0;
    for (const std::string& line : lines(r.out)) {
        if (as_json) {
            json e = json::parse(line);
            if (e.value("type", "") == "lost")
                lost_records += e.at("lost").get<uint64_t>();
            else if (e.at("path").get<std::string>().find(token) != std::string::npos)
                printed++;
        } else if (line.find(token) != std::string::npos) {
            printed++;
        }
    }
    uint64_t lost = lost_on_stderr(r.err);
    INFO("printed " << printed << ", lost " << lost
                    << ", RSS after each burst (KiB): " << rss_after[0] << ", " << rss_after[1]);
    CHECK(lost > 0); // the stall really overflowed the buffer
    CHECK(printed > 0);
    CHECK(printed + lost == static_cast<uint64_t>(per_burst * bursts));
    if (as_json) CHECK(lost_records == lost);
    // Every stderr line is a loss report.
    for (const std::string& line : lines(r.err))
        CHECK(line.find("opensnoop: lost ") == 0);
    // Flat: the second burst, as large as the first, adds no memory. (Not
    // under AddressSanitizer, whose quarantine keeps freed memory.)
    if (!tools_sanitized()) CHECK(rss_after[1] - rss_after[0] < 2048);
}

// One of bench/workloads (built into this test's build directory by meson):
// started with -g, it sets up, prints "ready" and waits for a line on stdin,
// then makes its events and prints how many it made.
class Workload {
  public:
    // in_child runs in the child before exec (enter a namespace).
    Workload(const std::string& name, const std::vector<std::string>& args,
             const std::function<void()>& in_child = {}) {
        std::vector<std::string> argv = {tool_path("tests/integration/" + name), "-g"};
        argv.insert(argv.end(), args.begin(), args.end());
        if (pipe(go_) != 0 || pipe(out_) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            if (in_child) in_child();
            dup2(go_[0], STDIN_FILENO);
            dup2(out_[1], STDOUT_FILENO);
            std::vector<char*> cargv;
            for (auto& a : argv)
                cargv.push_back(const_cast<char*>(a.c_str()));
            cargv.push_back(nullptr);
            execv(cargv[0], cargv.data());
            _exit(127);
        }
        close(go_[0]);
        close(out_[1]);
    }
    ~Workload() {
        close(go_[1]);
        close(out_[0]);
        if (pid_ > 0 && !reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    Workload(const Workload&) = delete;
    Workload& operator=(const Workload&) = delete;
    pid_t pid() const { return pid_; }
    bool ready(double timeout_s = 10) { return read_until_line(timeout_s) == "ready"; }
    void go() {
        if (write(go_[1], "go\n", 3) != 3) throw std::runtime_error("write failed");
        started_ = now_s();
    }
    // The count it printed once it exited 0; nothing on a failure or when it
    // has not finished within timeout_s of go().
    std::optional<uint64_t> finish(double timeout_s) {
        std::string line = read_until_line(timeout_s);
        int status = 0;
        if (line.empty() || waitpid(pid_, &status, 0) != pid_) return {};
        reaped_ = true;
        took_s_ = now_s() - started_;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
        return std::stoull(line);
    }
    double took_s() const { return took_s_; }

  private:
    std::string read_until_line(double timeout_s) {
        double deadline = now_s() + timeout_s;
        for (;;) {
            size_t nl = buffered_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffered_.substr(0, nl);
                buffered_.erase(0, nl + 1);
                return line;
            }
            double left = deadline - now_s();
            if (left <= 0) return "";
            pollfd p{out_[0], POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
            char chunk[256];
            ssize_t n = read(out_[0], chunk, sizeof chunk);
            if (n <= 0) return "";
            buffered_.append(chunk, static_cast<size_t>(n));
        }
    }
    int go_[2];
    int out_[2];
    pid_t pid_ = -1;
    bool reaped_ = false;
    double started_ = 0;
    double took_s_ = 0;
    std::string buffered_;
};

// What a load case's workloads run in.
struct LoadContext {
    std::string token;
    std::string cgroup;             // exitsnoop's
    std::vector<std::string> ports; // one a burst: two listeners cannot share one
    std::string all_ports() const { return ports[0] + "," + ports[1]; }
};

// One event tool under load: its workload (the arguments after -g, for each
// of two bursts, run one after the other), the tool's flags for the
// workloads' PIDs, and which of its output lines are the workload's.
struct LoadCase {
    std::string tool;
    std::string workload;
    std::function<std::vector<std::string>(const LoadContext&, int burst)> workload_args;
    std::function<std::vector<std::string>(const LoadContext&, const std::vector<pid_t>&)>
        tool_args;
    // Is this printed line one of the workload's events?
    std::function<bool(const LoadContext&, const std::string& line)> is_workloads;
    enum class Isolation { none, cgroup, netns, lossy_netns } isolation = Isolation::none;
    // Events each workload makes beyond its count (exitsnoop: its own exit).
    uint64_t extra_made = 0;
    // Exact: the filter keeps exactly the workload's events, so printed +
    // lost must equal made. Otherwise printed + lost must equal what a
    // second instance of the tool, with the same filter and a reader that
    // never stalls (output to a file), printed and lost: the kernel hands
    // both the same events, and on a busy machine may not hand them all of
    // the workload's (biosnoop: completions in a softirq on top of this
    // sandbox's agent thread reach no BPF program, docs/reliability.md);
    // and that is at least made, short by at most shortfall_ppm of it.
    bool exact = true;
    // The perf buffer (64 pages a CPU) fills in a fraction of a second,
    // the ring buffer (4 MiB) only after seconds: the ring buffer's case is
    // opensnoop's (below) and the soak's.
    bool perf_buffer = false;
    uint64_t shortfall_ppm = 0;
    // Runs for a fixed time, not a count: no rate to compare.
    bool timed = false;
    // Set for a tool without a filter for the workload (tcpretrans): which
    // printed lines are events at all, anyone's. Its accounting is then
    // checked against how often the kernel ran its programs: printed + lost
    // = runs, exactly.
    std::function<bool(const std::string& line)> is_event = {};
};

std::vector<LoadCase> load_cases() {
    using I = LoadCase::Isolation;
    auto pids = [](const std::vector<pid_t>& ps) {
        std::vector<std::string> a;
        for (pid_t p : ps)
            a.insert(a.end(), {"-p", std::to_string(p)});
        return a;
    };
    return {
        {"exitsnoop", "fork_exit",
         [](const LoadContext& c, int) {
             return std::vector<std::string>{"12000", "0", c.token};
         },
         [](const LoadContext& c, const std::vector<pid_t>&) {
             return std::vector<std::string>{"-c", c.cgroup};
         },
         [](const LoadContext& c, const std::string& line) {
             return line.find(c.token) != std::string::npos;
         },
         I::cgroup, 1, true, true},
        // Against a second instance (see exact), and at least 98 % of made:
        // the kernel has handed both instances up to 0.55 % fewer
        // completions than the workload made (a CI run under stress-ng;
        // docs/reliability.md). A loss in the output path fails the exact
        // comparison; one the two instances share (their filter, their
        // request table) fails the floor if it is above 2 %, and the exact
        // byte counts of test_biosnoop.cpp on a quiet machine below that.
        {"biosnoop", "odirect_io",
         [](const LoadContext& c, int) {
             return std::vector<std::string>{"20000", "/var/tmp/" + c.token, "60"};
         },
         [pids](const LoadContext&, const std::vector<pid_t>& ps) { return pids(ps); },
         [](const LoadContext&, const std::string& line) {
             return line.find("odirect_io") != std::string::npos;
         },
         I::none, 0, false, true, 20000},
        {"fsslower", "pread_loop",
         [](const LoadContext& c, int) {
             return std::vector<std::string>{"30000", "0", "/var/tmp/" + c.token};
         },
         [pids](const LoadContext&, const std::vector<pid_t>& ps) {
             auto a = pids(ps);
             a.insert(a.begin(), {"--min", "0"});
             return a;
         },
         [](const LoadContext& c, const std::string& line) {
             return line.find(c.token) != std::string::npos;
         },
         I::none, 0, true, true},
        {"gethostlatency", "resolve_loop",
         [](const LoadContext&, int) {
             return std::vector<std::string>{"15000", "0", "localhost"};
         },
         [pids](const LoadContext&, const std::vector<pid_t>& ps) { return pids(ps); },
         [](const LoadContext&, const std::string& line) {
             return line.find("localhost") != std::string::npos;
         },
         I::none, 0, true, true},
        {"tcpconnect", "tcp_loop",
         [](const LoadContext& c, int burst) {
             return std::vector<std::string>{"12000", "0", c.ports[burst]};
         },
         [](const LoadContext& c, const std::vector<pid_t>&) {
             return std::vector<std::string>{"-P", c.all_ports()};
         },
         [](const LoadContext&, const std::string& line) {
             return line.find("tcp_loop") != std::string::npos;
         },
         I::netns, 0, true, true},
        {"tcpaccept", "tcp_loop",
         [](const LoadContext& c, int burst) {
             return std::vector<std::string>{"12000", "0", c.ports[burst]};
         },
         [](const LoadContext& c, const std::vector<pid_t>&) {
             return std::vector<std::string>{"-P", c.all_ports()};
         },
         [](const LoadContext&, const std::string& line) {
             return line.find("tcp_loop") != std::string::npos;
         },
         I::netns, 0, true, true},
        {"tcplife", "tcp_loop",
         [](const LoadContext& c, int burst) {
             return std::vector<std::string>{"12000", "0", c.ports[burst]};
         },
         [](const LoadContext& c, const std::vector<pid_t>&) {
             return std::vector<std::string>{"-D", c.all_ports()};
         },
         [](const LoadContext&, const std::string& line) {
             return line.find("tcp_loop") != std::string::npos;
         },
         I::netns, 0, true, true},
        // tcpretrans has no filter: its losses may be anyone's. What it was
        // handed is how often the kernel ran its program (BPF run stats), and
        // printed + lost must equal that exactly. The namespace's RetransSegs
        // is not it: the kernel runs no BPF program at all (no tier, no
        // recursion miss counted) for retransmissions in a softirq that runs
        // on top of this sandbox's agent thread, while ftrace records them
        // (docs/reliability.md); so made is only the upper bound.
        {"tcpretrans", "retrans_storm",
         [](const LoadContext& c, int burst) {
             // 4 s, about 11,000 retransmissions a burst: more than the
             // perf buffers of two CPUs (64 pages each) and the pipe hold
             // together, however evenly the CPUs share them (2 s overflowed
             // only when one CPU took most, and under load none did).
             return std::vector<std::string>{"400", "4", c.ports[burst]};
         },
         [](const LoadContext&, const std::vector<pid_t>&) { return std::vector<std::string>{}; },
         [](const LoadContext& c, const std::string& line) {
             for (const std::string& port : c.ports)
                 if (line.find("R> 127.0.0.1:" + port + " ") != std::string::npos) return true;
             return false;
         },
         I::lossy_netns, 0, false, true, 0, true,
         [](const std::string& line) {
             std::vector<std::string> f = fields(line);
             return f.size() == 7 && (f[4] == "R>" || f[4] == "L>");
         }},
    };
}

void run_load_case(const LoadCase& lc) {
    LoadContext ctx;
    ctx.token = unique_token("ld").substr(0, 15); // a command name, for exitsnoop
    // Below the namespace's ephemeral ports (32768 up): a client's port
    // equal to a listener's would match tcplife's -D on the server side (a
    // loaded run printed 24002 of 24000 sessions).
    int port = 20000 + 2 * (getpid() % 6000);
    ctx.ports = {std::to_string(port), std::to_string(port + 1)};
    // biosnoop's and fsslower's workloads write this file (on a disk, not
    // tmpfs).
    struct RemovedAtEnd {
        std::string path;
        ~RemovedAtEnd() { unlink(path.c_str()); }
    } scratch{"/var/tmp/" + ctx.token};
    std::optional<TestCgroup> cgroup;
    if (lc.isolation == LoadCase::Isolation::cgroup) {
        cgroup.emplace(ctx.token);
        if (cgroup->path.empty()) {
            SKIP_CASE("no writable cgroup v2 here");
        }
        ctx.cgroup = cgroup->path;
    }
    std::optional<NetNamespace> ns;
    if (lc.isolation == LoadCase::Isolation::netns ||
        lc.isolation == LoadCase::Isolation::lossy_netns) {
        if (!have_command("ip")) {
            SKIP_CASE("no ip (iproute2)");
        }
        ns.emplace("cs-load");
        REQUIRE(ns->ok());
    }
    if (lc.isolation == LoadCase::Isolation::lossy_netns) {
        // Data segments to the port are dropped, the handshake is not; a
        // low minimum RTO makes retransmissions come fast.
        REQUIRE(ns->exec("nft add table inet cs_load"));
        REQUIRE(
            ns->exec("nft add chain inet cs_load input '{ type filter hook input priority 0; }'"));
        REQUIRE(ns->exec("nft add rule inet cs_load input tcp dport " + ctx.ports[0] + "-" +
                         ctx.ports[1] + " meta length gt 200 drop"));
        REQUIRE(ns->exec("sysctl -qw net.ipv4.tcp_rto_min_us=5000"));
    }
    const NetNamespace* in_ns = ns ? &*ns : nullptr;
    auto start = [&](int burst) {
        auto w = std::make_unique<Workload>(lc.workload, lc.workload_args(ctx, burst), [in_ns] {
            if (in_ns && !in_ns->enter()) _exit(126);
        });
        REQUIRE(w->ready());
        if (cgroup) REQUIRE(cgroup->add(w->pid()));
        return w;
    };

    // The workload alone, for its rate without the tool.
    double alone_s = 0;
    if (!lc.timed) {
        auto alone = start(0);
        alone->go();
        REQUIRE(alone->finish(60));
        alone_s = alone->took_s();
    }

    constexpr int bursts = 2;
    std::vector<std::unique_ptr<Workload>> workloads;
    std::vector<pid_t> pids;
    for (int i = 0; i < bursts; i++) {
        workloads.push_back(start(i));
        pids.push_back(workloads.back()->pid());
    }
    std::vector<std::string> argv = {tool_path(lc.tool)};
    for (const std::string& a : lc.tool_args(ctx, pids))
        argv.push_back(a);
    std::optional<BpfRunStats> run_stats;
    if (lc.is_event) {
        run_stats.emplace();
        REQUIRE(run_stats->ok());
    }
    bool perf = lc.perf_buffer;
    ToolProcess p(argv, ToolProcess::Stdout::pipe, [perf] {
        if (perf) setenv("CORESCOPE_PERF_BUFFER", "1", 1);
    });
    REQUIRE(p.wait_attached());
    std::optional<ToolProcess> reference;
    if (!lc.exact && !lc.is_event) {
        reference.emplace(argv, ToolProcess::Stdout::file);
        REQUIRE(reference->wait_attached());
    }

    uint64_t made = 0;
    std::vector<long> rss_after;
    std::vector<double> took;
    for (auto& w : workloads) {
        // Nobody reads the tool's output during the burst: the pipe fills,
        // the tool blocks in write(), its kernel buffer fills and drops.
        w->go();
        std::optional<uint64_t> count = w->finish(120);
        REQUIRE(count);
        made += *count + lc.extra_made;
        took.push_back(w->took_s());
        drain(p, 1.0);
        rss_after.push_back(rss_kib(p.pid()));
    }
    // Everything the kernel handed the tool has been printed or counted by
    // now (drained, and the tool reports losses every second).
    ProgramRuns runs = bpf_program_runs(p.pid());
    Finished r = p.stop(SIGINT, 30);
    CHECK(r.exit_code == 0);
    uint64_t handed = 0; // what the reference printed and lost
    if (reference) {
        Finished ref = reference->stop(SIGINT, 30);
        CHECK(ref.exit_code == 0);
        for (const std::string& line : lines(ref.out))
            if (lc.is_workloads(ctx, line)) handed++;
        handed += lost_on_stderr(ref.err);
    }

    uint64_t printed = 0;
    uint64_t printed_any = 0;
    for (const std::string& line : lines(r.out)) {
        if (lc.is_workloads(ctx, line)) printed++;
        if (lc.is_event && lc.is_event(line)) printed_any++;
    }
    uint64_t lost = lost_on_stderr(r.err);
    INFO(lc.tool << ": made " << made << ", printed " << printed << ", lost " << lost
                 << "; the tool's programs ran " << runs.runs << " times (recursion misses "
                 << runs.recursion_misses << "), printed " << printed_any << " events in all"
                 << "; the reference instance printed and lost " << handed
                 << "; the workload alone took " << alone_s << " s, with the stalled tool "
                 << took[0] << " s and " << took[1] << " s; RSS after each burst (KiB) "
                 << rss_after[0] << ", " << rss_after[1]);
    CHECK(lost > 0); // the stalled reader really overflowed the buffer
    CHECK(printed > 0);
    if (lc.is_event) {
        CHECK(printed_any + lost == runs.runs);
        CHECK(runs.recursion_misses == 0);
        // The workload's own retransmissions, printed or lost, are at most
        // what its namespace counted (the kernel's shortfall is above).
        CHECK(printed <= made);
    } else if (lc.exact) {
        CHECK(printed + lost == made);
    } else {
        CHECK(printed + lost == handed);
        CHECK(handed <= made);
        CHECK(handed + made * lc.shortfall_ppm / 1000000 >= made);
    }
    for (const std::string& line : lines(r.err))
        CHECK(line.find(lc.tool + ": lost ") == 0);
    // Not held up: with its reader stalled the whole burst, the workload ran
    // to its end, at a rate not far below its rate alone (generous bounds:
    // the machine is shared, and the tool costs each event some work).
    if (!lc.timed)
        for (double t : took)
            CHECK(t < 10 * alone_s + 5);
    // Flat: the second burst, as large as the first, adds no memory.
    if (!tools_sanitized()) CHECK(rss_after[1] - rss_after[0] < 2048);
}

} // namespace

TEST_CASE("every event tool under a stalled reader accounts for every event, never blocks "
          "the workload and keeps its memory flat",
          "[load]") {
    REQUIRE_BPF();
    // Its exact counts and time bounds hold for the plain build, whose
    // integration suite runs it. Under ASan and UBSan they did not (a CI run:
    // exitsnoop counted 2 exits more than its workload made; the biosnoop
    // and tcpretrans workloads did not finish in time), and what the sanitizer
    // suite is for, memory errors, the other cases cover.
    if (tools_sanitized()) {
        SKIP_CASE("the load cases run in the plain build, not under the sanitizers");
    }
    for (const LoadCase& lc : load_cases()) {
        DYNAMIC_SECTION(lc.tool) {
            run_load_case(lc);
        }
    }
}

TEST_CASE("opensnoop with a stalled reader reports every lost event and never blocks the workload",
          "[load]") {
    REQUIRE_BPF();
    SECTION("text, ring buffer") {
        stalled_reader_accounts_for_every_event(false, false);
    }
    SECTION("JSON, ring buffer") {
        stalled_reader_accounts_for_every_event(true, false);
    }
    SECTION("text, perf buffer") {
        stalled_reader_accounts_for_every_event(false, true);
    }
}

} // namespace test_load
