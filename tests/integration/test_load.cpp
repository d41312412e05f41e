// Load: a workload that makes events faster than the tool can print them,
// to a reader that stalls. The tool must count and report every event it
// lost (printed + lost = made, exactly), never hold up the traced workload
// (the kernel side drops when its buffer is full, it never waits), and keep
// its memory flat however long this goes on.
#include "harness.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace itest;
using nlohmann::json;

namespace {

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

uint64_t lost_on_stderr(const std::string& err) {
    uint64_t total = 0;
    std::regex lost("lost ([0-9]+) events");
    for (const std::string& line : lines(err)) {
        std::smatch m;
        if (std::regex_search(line, m, lost)) total += std::stoull(m[1]);
    }
    return total;
}

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
    if (std::getenv("ASAN_OPTIONS") == nullptr) CHECK(rss_after[1] - rss_after[0] < 2048);
}

} // namespace

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
