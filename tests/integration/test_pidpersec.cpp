// pidpersec against forks and threads this test makes in known numbers.
// Its counts are system-wide, so the rest of the host adds to them: each
// column must hold at least the test's own (a thread counted as a process,
// or the other way round, leaves one short by thousands), and the two
// together at most what the kernel's own fork counter (/proc/stat
// "processes") grew by around the runs (a task counted twice or invented
// overshoots it). A busy build machine forks thousands of its own.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace test_pidpersec {

using namespace itest;
using nlohmann::json;

namespace {

constexpr uint64_t forks = 2000;
constexpr uint64_t threads = 5000;

// The kernel's count of tasks created since boot, processes and threads.
uint64_t kernel_forks() {
    std::ifstream stat("/proc/stat");
    for (std::string line; std::getline(stat, line);)
        if (line.rfind("processes ", 0) == 0) return std::stoull(line.substr(10));
    FAIL("no processes line in /proc/stat");
    return 0;
}

void make_forks(uint64_t n) {
    for (uint64_t i = 0; i < n; i++) {
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) _exit(0);
        REQUIRE(waitpid(child, nullptr, 0) == child);
    }
}

void make_threads(uint64_t n) {
    for (uint64_t i = 0; i < n; i += 10) {
        std::vector<std::thread> batch;
        for (int j = 0; j < 10; j++)
            batch.emplace_back([] {});
        for (std::thread& t : batch)
            t.join();
    }
}

struct Totals {
    uint64_t processes = 0, threads = 0;
    size_t records = 0;
};

Totals sum_records(const std::string& out) {
    Totals t;
    for (const json& r : json_lines(out)) {
        uint64_t p = r.at("processes").get<uint64_t>();
        uint64_t th = r.at("threads").get<uint64_t>();
        double seconds = r.at("interval_s").get<double>();
        CHECK(seconds > 0);
        // The rates are the counts over the measured interval; interval_s
        // is printed to the millisecond, so rate * interval_s may be off by
        // half a millisecond's worth of the rate (a wrong divisor is off by
        // far more).
        auto consistent = [&](const char* rate_key, uint64_t count) {
            double rate = r.at(rate_key).get<double>();
            CHECK(rate * seconds ==
                  Approx(static_cast<double>(count)).margin(rate * 0.0006 + 0.01));
        };
        consistent("processes_per_s", p);
        consistent("threads_per_s", th);
        t.processes += p;
        t.threads += th;
        t.records++;
    }
    return t;
}

std::function<void()> skip_attach(const char* kinds) {
    return [kinds] { setenv("CORESCOPE_SKIP_ATTACH", kinds, 1); };
}

} // namespace

TEST_CASE("pidpersec counts the test's forks as processes and its threads as threads, on every "
          "tier",
          "[pidpersec]") {
    REQUIRE_BPF();
    uint64_t created_before = kernel_forks();
    std::vector<std::unique_ptr<ToolProcess>> tiers;
    tiers.push_back(std::make_unique<ToolProcess>(
        std::vector<std::string>{tool_path("pidpersec"), "-o", "json"}));
    tiers.push_back(std::make_unique<ToolProcess>(
        std::vector<std::string>{tool_path("pidpersec"), "-o", "json"}, ToolProcess::Stdout::pipe,
        skip_attach("tp_btf")));
    tiers.push_back(std::make_unique<ToolProcess>(
        std::vector<std::string>{tool_path("pidpersec"), "-o", "json"}, ToolProcess::Stdout::pipe,
        skip_attach("tp_btf,raw_tp")));
    for (auto& t : tiers)
        REQUIRE(t->wait_attached());
    make_forks(forks);
    make_threads(threads);
    std::vector<Finished> finished;
    for (auto& t : tiers)
        finished.push_back(t->stop());
    uint64_t created = kernel_forks() - created_before;
    for (size_t i = 0; i < tiers.size(); i++) {
        INFO("tier " << i << " (0: tp_btf, 1: raw_tp, 2: tracefs)");
        CHECK(finished[i].exit_code == 0);
        Totals t = sum_records(finished[i].out);
        INFO("processes " << t.processes << ", threads " << t.threads << "; the kernel created "
                          << created << " tasks around the runs");
        CHECK(t.records >= 1);
        CHECK(t.processes >= forks);
        CHECK(t.threads >= threads);
        CHECK(t.processes + t.threads <= created);
    }
}

TEST_CASE("pidpersec prints a text line per interval and stops after count", "[pidpersec]") {
    REQUIRE_BPF();
    Finished f = run({tool_path("pidpersec"), "-T", "1", "2"}, 30);
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() == 3); // the header and two intervals
    CHECK(std::regex_match(out[0], std::regex("TIME +PIDS/s +THREADS/s")));
    for (size_t i = 1; i < out.size(); i++)
        CHECK(
            std::regex_match(out[i], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] +[0-9]+\\.[0-9] +"
                                                "[0-9]+\\.[0-9]")));
}

TEST_CASE("pidpersec with --btf and -v ends after -d with the partial interval", "[pidpersec]") {
    REQUIRE_BPF();
    double started = now_s();
    Finished f = run({tool_path("pidpersec"), "--btf", "/sys/kernel/btf/vmlinux", "-v", "-d", "1.5",
                      "-o", "json"},
                     30);
    double wall = now_s() - started;
    CHECK(wall >= 1.5);
    CHECK(f.exit_code == 0);
    CHECK(f.err.find("pidpersec: attach plan") != std::string::npos); // -v
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2); // after a second, and the rest of -d's 1.5 s
    check_intervals({records[0]}, 1, wall);
    // The partial interval ends at -d's deadline, 1.5 s from the start (or
    // a little after it on a busy machine), not a whole second after the
    // first: a tool that waited for the next full interval fails here.
    double first = records[0].at("interval_s").get<double>();
    double partial = records[1].at("interval_s").get<double>();
    CHECK(first + partial >= 1.495);
    CHECK(first + partial < wall);
    CHECK(partial < 0.95);
}

} // namespace test_pidpersec
