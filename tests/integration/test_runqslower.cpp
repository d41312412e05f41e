// runqslower against two busy children of this test pinned to one CPU, so
// that each waits in the run queue while the other runs.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_runqslower {

using namespace itest;
using nlohmann::json;

namespace {

// A child named name, pinned to cpu under SCHED_RR, that spins for seconds
// once the test writes a byte to go. Two of them on one CPU take strict
// turns of a round-robin slice (100 ms): no ordinary task comes between
// them, so each waits for the other.
struct PinnedSpinner {
    pid_t pid = -1;

    PinnedSpinner(const std::string& name, int cpu, int go_fd, int other_fd, double seconds) {
        pid = fork();
        if (pid != 0) return;
        close(other_fd);
        prctl(PR_SET_NAME, name.c_str());
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) _exit(101);
        sched_param rr{};
        rr.sched_priority = 1;
        if (sched_setscheduler(0, SCHED_RR, &rr) != 0) _exit(102);
        char c;
        if (read(go_fd, &c, 1) != 1) _exit(100);
        double end = now_s() + seconds;
        volatile uint64_t n = 0;
        while (now_s() < end)
            n = n + 1;
        _exit(0);
    }
    int wait() {
        int status = 0;
        if (pid > 0 && waitpid(pid, &status, 0) == pid) pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    ~PinnedSpinner() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
};

int first_usable_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set)) return i;
    return 0;
}

} // namespace

// Two round-robin spinners on one CPU take turns: each wait lasts the
// other's slice (100 ms), far over the 1 ms threshold, and the task that had
// the CPU meanwhile is the other spinner (a kernel thread of a higher
// priority can come between, hence "some event" for the previous task).
// 0.6 s each: at least two waits each (the first from the start, as one of
// them runs first).
TEST_CASE("runqslower reports the waits of two tasks sharing a CPU, and the task before",
          "[runqslower]") {
    REQUIRE_BPF();
    std::string a_comm = unique_comm("rqsa-");
    std::string b_comm = unique_comm("rqsb-");
    int go[2];
    REQUIRE(pipe(go) == 0);
    int cpu = first_usable_cpu();
    PinnedSpinner a(a_comm, cpu, go[0], go[1], 0.6);
    PinnedSpinner b(b_comm, cpu, go[0], go[1], 0.6);
    close(go[0]);
    std::string a_pid = std::to_string(a.pid), b_pid = std::to_string(b.pid);
    ToolProcess both(
        {tool_path("runqslower"), "--min", "1", "-p", a_pid, "-p", b_pid, "-o", "json"});
    ToolProcess only_a({tool_path("runqslower"), "-P", "-p", a_pid, "1000"});
    REQUIRE(both.wait_attached());
    REQUIRE(only_a.wait_attached());
    REQUIRE(write(go[1], "gg", 2) == 2);
    close(go[1]);
    CHECK(a.wait() == 0);
    CHECK(b.wait() == 0);
    Finished j = both.stop();
    Finished t = only_a.stop();
    REQUIRE(j.exit_code == 0);
    REQUIRE(t.exit_code == 0);

    // JSON: both children, every wait at least 1 ms, on their CPU, with the
    // other child before them at least once.
    int a_events = 0, b_events = 0;
    bool a_after_b = false, b_after_a = false;
    for (const json& e : json_lines(j.out)) {
        if (e.value("type", "") == "lost") continue;
        bool is_a = e.at("pid") == a.pid || e.at("comm") == a_comm;
        CHECK((is_a || e.at("comm") == b_comm));
        CHECK(e.at("latency_us").get<uint64_t>() >= 1000);
        CHECK(e.at("tid") == e.at("pid"));
        CHECK(e.at("cpu") == cpu);
        if (is_a) {
            a_events++;
            a_after_b = a_after_b || e.at("prev_comm") == b_comm;
        } else {
            b_events++;
            b_after_a = b_after_a || e.at("prev_comm") == a_comm;
        }
    }
    CHECK(a_events >= 2);
    CHECK(b_events >= 2);
    CHECK(a_after_b);
    CHECK(b_after_a);

    // Text, -P, min_us 1000, -p a: only a's waits, its TID, LAT(us) >= 1000,
    // and b named in PREV COMM on some line.
    auto text = lines(t.out);
    REQUIRE(!text.empty());
    CHECK(fields(text[0]) == std::vector<std::string>{"TIME", "COMM", "TID", "LAT(us)", "PREV",
                                                      "COMM", "PREV", "TID"});
    int rows = 0;
    bool prev_b = false;
    for (size_t i = 1; i < text.size(); i++) {
        auto f = fields(text[i]);
        REQUIRE(f.size() == 6);
        CHECK(f[1] == a_comm);
        CHECK(f[2] == a_pid);
        CHECK(std::stoul(f[3]) >= 1000);
        prev_b = prev_b || (f[4] == b_comm && f[5] == b_pid);
        rows++;
    }
    CHECK(rows >= 2);
    CHECK(prev_b);
}

TEST_CASE("runqslower takes its threshold once: min_us or --min", "[runqslower]") {
    Finished twice = run({tool_path("runqslower"), "--min", "1", "1000"});
    CHECK(twice.exit_code == 2);
    CHECK(twice.err.find("min_us") != std::string::npos);
    Finished bad = run({tool_path("runqslower"), "10ms"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("10ms") != std::string::npos);
}

} // namespace test_runqslower
