// runqlat against a process of this test that runs more busy threads than
// there are CPUs, so its threads wait in the run queue.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace test_runqlat {

using namespace itest;
using nlohmann::json;

namespace {

// At least 4 threads, and twice the CPUs: they must queue for a CPU.
int busy_thread_count() {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return static_cast<int>(std::max<long>(4, 2 * cpus));
}

// A child process named name that waits for go, then spins busy_thread_count()
// threads for seconds. The caller reaps it. Before go it may be moved.
struct BusyChild {
    pid_t pid = -1;
    int go_fd = -1;
    bool reaped = false;

    BusyChild(const std::string& name, double seconds) {
        int go[2];
        if (pipe(go) != 0) throw std::runtime_error("pipe failed");
        pid = fork();
        if (pid == 0) {
            close(go[1]);
            prctl(PR_SET_NAME, name.c_str());
            char c;
            if (read(go[0], &c, 1) != 1) _exit(1);
            std::vector<std::thread> threads;
            for (int i = 0; i < busy_thread_count(); i++)
                threads.emplace_back([seconds] {
                    double end = now_s() + seconds;
                    volatile uint64_t n = 0;
                    while (now_s() < end)
                        n = n + 1;
                });
            for (std::thread& t : threads)
                t.join();
            _exit(0);
        }
        close(go[0]);
        go_fd = go[1];
    }
    void start() {
        if (write(go_fd, "x", 1) != 1) throw std::runtime_error("cannot start the busy child");
        close(go_fd);
        go_fd = -1;
    }
    // The thread IDs while it runs.
    std::set<long> threads() const {
        std::set<long> tids;
        std::string dir = "/proc/" + std::to_string(pid) + "/task";
        Finished r = run({"/bin/ls", dir});
        std::istringstream in(r.out);
        for (long tid; in >> tid;)
            tids.insert(tid);
        return tids;
    }
    void wait() {
        if (go_fd >= 0) close(go_fd);
        go_fd = -1;
        if (!reaped && pid > 0) waitpid(pid, nullptr, 0);
        reaped = true;
    }
    ~BusyChild() {
        if (!reaped && pid > 0) {
            kill(pid, SIGKILL);
            wait();
        }
    }
};

} // namespace

TEST_CASE("runqlat sees the run-queue waits of more busy threads than CPUs", "[runqlat]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("rqbusy-");
    BusyChild child(comm, 2.0);
    ToolProcess all({tool_path("runqlat"), "-o", "json"});
    ToolProcess per_process({tool_path("runqlat"), "-P", "-o", "json"});
    ToolProcess only({tool_path("runqlat"), "-p", std::to_string(child.pid), "-P", "-o", "json"});
    ToolProcess text({tool_path("runqlat"), "-p", std::to_string(child.pid)});
    REQUIRE(all.wait_attached());
    REQUIRE(per_process.wait_attached());
    REQUIRE(only.wait_attached());
    REQUIRE(text.wait_attached());
    child.start();
    child.wait();
    Finished a = all.stop();
    Finished p = per_process.stop();
    Finished o = only.stop();
    Finished t = text.stop();
    CHECK(a.exit_code == 0);
    CHECK(p.exit_code == 0);

    auto whole = json_lines(a.out);
    REQUIRE(whole.size() == 1);
    CHECK(whole[0].at("type") == "histogram");
    CHECK(whole[0].at("unit") == "usecs");
    CHECK(whole[0].at("total").get<long>() > 0);
    CHECK(!whole[0].contains("pid"));

    bool found = false;
    for (const json& h : json_lines(p.out)) {
        if (h.at("pid") != child.pid) continue;
        found = true;
        CHECK(h.at("comm") == comm);
        CHECK(h.at("total").get<long>() >= busy_thread_count());
    }
    CHECK(found);

    // -p keeps only the busy process; its threads wait a scheduler slice
    // (milliseconds), not microseconds, for a CPU.
    auto filtered = json_lines(o.out);
    REQUIRE(!filtered.empty());
    uint64_t samples = 0;
    for (const json& h : filtered) {
        CHECK(h.at("pid") == child.pid);
        samples += h.at("total").get<uint64_t>();
        CHECK(h.at("p90").get<uint64_t>() >= 255);
    }
    CHECK(samples >= static_cast<uint64_t>(busy_thread_count()));

    auto text_lines = lines(t.out);
    REQUIRE(!text_lines.empty());
    CHECK(text_lines[0].find("usecs") != std::string::npos);
    CHECK(text_lines[0].find("count") != std::string::npos);
    CHECK(text_lines[0].find("distribution") != std::string::npos);
    CHECK(t.out.find("|*") != std::string::npos);
}

TEST_CASE("runqlat interval and count print that many histograms and exit 0", "[runqlat]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("rqint-");
    BusyChild child(comm, 3.0);
    child.start();
    ToolProcess text({tool_path("runqlat"), "-T", "1", "2"});
    double started = now_s();
    ToolProcess jsonl({tool_path("runqlat"), "-m", "-o", "json", "1", "2"});
    Finished j = jsonl.wait(10);
    double wall = now_s() - started;
    Finished t = text.wait(10);
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    int headers = 0, stamps = 0;
    for (const std::string& line : lines(t.out)) {
        if (line.find("usecs") != std::string::npos &&
            line.find("distribution") != std::string::npos)
            headers++;
        if (line.size() == 8 && line[2] == ':' && line[5] == ':') stamps++;
    }
    CHECK(headers == 2);
    CHECK(stamps == 2);
    auto records = json_lines(j.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records) {
        CHECK(r.at("unit") == "msecs");
        CHECK(r.at("total").get<long>() > 0);
    }
}

TEST_CASE("runqlat -m holds the same latencies as microseconds, divided by 1000", "[runqlat]") {
    REQUIRE_BPF();
    BusyChild child(unique_comm("rqms-"), 2.0);
    std::string pid = std::to_string(child.pid);
    ToolProcess us({tool_path("runqlat"), "-p", pid, "-o", "json"});
    ToolProcess ms({tool_path("runqlat"), "-m", "-p", pid, "-o", "json"});
    REQUIRE(us.wait_attached());
    REQUIRE(ms.wait_attached());
    child.start();
    child.wait();
    std::vector<json> in_us = json_lines(us.stop().out);
    std::vector<json> in_ms = json_lines(ms.stop().out);
    REQUIRE(in_us.size() == 1);
    REQUIRE(in_ms.size() == 1);
    CHECK(in_us[0].at("total").get<uint64_t>() > 0);
    check_same_in_milliseconds(in_us[0], in_ms[0]);
}

TEST_CASE("runqlat -L splits by thread and --pidnss by PID namespace", "[runqlat]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("rqthr-");
    BusyChild child(comm, 2.0);
    ToolProcess threads(
        {tool_path("runqlat"), "-L", "-p", std::to_string(child.pid), "-o", "json"});
    ToolProcess namespaces({tool_path("runqlat"), "--pidnss", "-o", "json"});
    REQUIRE(threads.wait_attached());
    REQUIRE(namespaces.wait_attached());
    child.start();
    // Its threads, once all have started (the leader and the busy ones).
    std::set<long> tids;
    for (double deadline = now_s() + 10; now_s() < deadline; usleep(10000)) {
        tids = child.threads();
        if (tids.size() >= static_cast<size_t>(busy_thread_count()) + 1) break;
    }
    child.wait();
    Finished t = threads.stop();
    Finished n = namespaces.stop();

    REQUIRE(tids.size() >= static_cast<size_t>(busy_thread_count()));
    std::set<long> seen;
    for (const json& h : json_lines(t.out)) {
        long tid = h.at("tid").get<long>();
        CHECK(tids.count(tid) == 1);
        CHECK(!h.contains("pid"));
        seen.insert(tid);
    }
    // Every spinning thread waited at some point.
    CHECK(seen.size() >= static_cast<size_t>(busy_thread_count()));

    struct stat ns {};
    REQUIRE(stat("/proc/self/ns/pid", &ns) == 0);
    bool found = false;
    for (const json& h : json_lines(n.out))
        if (h.at("pidns") == ns.st_ino) {
            found = true;
            CHECK(h.at("total").get<long>() > 0);
        }
    CHECK(found);
}

TEST_CASE("runqlat -c counts only tasks in the cgroup", "[runqlat]") {
    REQUIRE_BPF();
    TestCgroup cgroup(unique_token("corescope-runqlat"));
    if (cgroup.path.empty()) {
        SKIP_CASE("no writable cgroup v2 hierarchy");
    }
    std::string comm = unique_comm("rqcg-");
    BusyChild inside(comm, 1.5);
    BusyChild outside(unique_comm("rqout-"), 1.5);
    REQUIRE(cgroup.add(inside.pid));
    ToolProcess p({tool_path("runqlat"), "-c", cgroup.path, "-P", "-o", "json"});
    REQUIRE(p.wait_attached());
    inside.start();
    outside.start();
    inside.wait();
    outside.wait();
    Finished r = p.stop();
    auto records = json_lines(r.out);
    REQUIRE(!records.empty());
    bool found = false;
    for (const json& h : records) {
        CHECK(h.at("pid") == inside.pid); // nothing from outside the cgroup
        found = found || h.at("pid") == inside.pid;
    }
    CHECK(found);
}

TEST_CASE("runqlat rejects two ways to split", "[runqlat]") {
    Finished r = run({tool_path("runqlat"), "-P", "--pidnss"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--pidnss") != std::string::npos);
}

} // namespace test_runqlat
