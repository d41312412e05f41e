// biolatency against O_DIRECT writes this test makes itself: each 4 KiB
// O_DIRECT|O_DSYNC write to a file in /tmp is at least one block request on
// the disk under /tmp, so a histogram of that disk counts at least as many
// requests as the test wrote (other I/O on the machine only adds).
#include "harness.h"
#include "json_lines.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace test_biolatency {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int writes = 200;
constexpr size_t block = 4096;
constexpr size_t file_blocks = 64;

// Writes in the background until stopped, for runs that end on their own.
class BackgroundWriter {
  public:
    explicit BackgroundWriter(const ScratchFile& file)
        : thread_([this, &file] {
              while (!stop_)
                  if (!file.direct_writes(block, 10)) failed_ = true;
          }) {}
    ~BackgroundWriter() { stop(); }
    bool stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        return !failed_;
    }

  private:
    std::atomic<bool> stop_{false};
    std::atomic<bool> failed_{false};
    std::thread thread_;
};

// The counts of the text histograms' rows ("  64 -> 127  : 57  |***  |").
uint64_t text_total(const std::string& text) {
    static const std::regex row(R"(^\s*\d+ -> \d+\s+: (\d+)\s+\|\**\s*\|$)");
    uint64_t sum = 0;
    for (const std::string& line : lines(text)) {
        std::smatch m;
        if (std::regex_match(line, m, row)) sum += std::stoull(m[1]);
    }
    return sum;
}

size_t count_lines(const std::string& text, const std::regex& pattern) {
    size_t n = 0;
    for (const std::string& line : lines(text))
        if (std::regex_search(line, pattern)) n++;
    return n;
}

// Runs biolatency with args while the test writes, stops it with SIGINT.
Finished trace_writes(const std::vector<std::string>& args, const ScratchFile& file) {
    std::vector<std::string> argv = {tool_path("biolatency")};
    argv.insert(argv.end(), args.begin(), args.end());
    ToolProcess p(argv);
    REQUIRE(p.wait_attached());
    REQUIRE(file.direct_writes(block, writes));
    return p.stop(SIGINT);
}

} // namespace

TEST_CASE("biolatency prints one histogram of every write at SIGINT", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    Finished r = trace_writes({}, file);
    CHECK(r.exit_code == 0);
    std::vector<std::string> out = lines(r.out);
    REQUIRE(!out.empty());
    CHECK(out[0] == "     usecs               : count    distribution");
    CHECK(count_lines(r.out, std::regex("usecs")) == 1);
    CHECK(text_total(r.out) >= writes);
    // Not a terminal: no "Tracing ..." banner.
    CHECK(r.err.empty());
}

TEST_CASE("biolatency JSON carries the histogram with its total, quantiles and buckets",
          "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    Finished r = trace_writes({"-o", "json"}, file);
    CHECK(r.exit_code == 0);
    std::vector<json> records = json_lines(r.out);
    REQUIRE(records.size() == 1);
    const json& h = records[0];
    CHECK(h.at("type") == "histogram");
    CHECK(h.at("time").is_string());
    CHECK(h.at("unit") == "usecs");
    CHECK(h.at("queued") == false);
    CHECK(h.at("interval_s").get<double>() > 0);
    CHECK(!h.contains("disk"));
    CHECK(!h.contains("operation"));
    CHECK(h.at("total").get<uint64_t>() >= writes);
    uint64_t in_buckets = 0;
    for (const json& b : h.at("buckets")) {
        CHECK(b.at("low").get<uint64_t>() <= b.at("high").get<uint64_t>());
        in_buckets += b.at("count").get<uint64_t>();
    }
    CHECK(in_buckets == h.at("total").get<uint64_t>());
    CHECK(h.at("p50").get<uint64_t>() <= h.at("p99").get<uint64_t>());
}

TEST_CASE("biolatency -D names the disk under /tmp", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    unsigned maj = 0, min = 0;
    std::string disk = disk_of(file.path(), &maj, &min);
    REQUIRE(!disk.empty());
    SECTION("JSON") {
        Finished r = trace_writes({"-D", "-o", "json"}, file);
        CHECK(r.exit_code == 0);
        bool found = false;
        for (const json& h : json_lines(r.out)) {
            CHECK(h.at("disk").is_string());
            if (h.at("disk") != disk) continue;
            found = true;
            CHECK(h.at("major") == maj);
            CHECK(h.at("minor") == min);
            CHECK(h.at("total").get<uint64_t>() >= writes);
        }
        CHECK(found);
    }
    SECTION("text") {
        Finished r = trace_writes({"-D"}, file);
        CHECK(r.exit_code == 0);
        CHECK(count_lines(r.out, std::regex("^disk = " + disk + "$")) == 1);
    }
}

TEST_CASE("biolatency --disk keeps only that disk", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    std::string disk = disk_of(file.path());
    REQUIRE(!disk.empty());
    Finished r = trace_writes({"--disk", disk, "-D", "-o", "json"}, file);
    CHECK(r.exit_code == 0);
    std::vector<json> records = json_lines(r.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("disk") == disk);
    CHECK(records[0].at("total").get<uint64_t>() >= writes);
}

TEST_CASE("biolatency --disk with an unknown disk is a usage error naming it", "[biolatency]") {
    Finished r = run({tool_path("biolatency"), "--disk", "nosuchdisk"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'nosuchdisk'") != std::string::npos);
    CHECK(r.out.empty());
}

TEST_CASE("biolatency does not offer a PID filter: completions have no process", "[biolatency]") {
    Finished r = run({tool_path("biolatency"), "-p", "1"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'-p'") != std::string::npos);
}

TEST_CASE("biolatency -F shows the writes under operation Write", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    SECTION("JSON") {
        Finished r = trace_writes({"-F", "-o", "json"}, file);
        CHECK(r.exit_code == 0);
        uint64_t written = 0;
        for (const json& h : json_lines(r.out)) {
            CHECK(h.at("operation").is_string());
            CHECK(h.at("sync").is_boolean());
            if (h.at("operation") == "Write") written += h.at("total").get<uint64_t>();
        }
        CHECK(written >= writes);
    }
    SECTION("text") {
        Finished r = trace_writes({"-F"}, file);
        CHECK(r.exit_code == 0);
        CHECK(count_lines(r.out, std::regex("^operation = (Sync-)?Write$")) >= 1);
    }
    SECTION("with -D, both on one label line") {
        Finished r = trace_writes({"-D", "-F"}, file);
        CHECK(r.exit_code == 0);
        CHECK(count_lines(r.out, std::regex("^disk = " + disk_of(file.path()) +
                                            "\toperation = (Sync-)?Write$")) >= 1);
    }
}

TEST_CASE("biolatency -m counts in milliseconds", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    SECTION("JSON: the same writes as in microseconds, divided by 1000") {
        // Both count exactly the writes of a child in a cgroup of its own.
        TestCgroup writers(unique_token("biolatency-ms"));
        if (writers.path.empty()) SKIP_CASE("no writable cgroup v2 mount");
        ToolProcess us({tool_path("biolatency"), "-c", writers.path, "-o", "json"});
        ToolProcess ms({tool_path("biolatency"), "-m", "-c", writers.path, "-o", "json"});
        REQUIRE(us.wait_attached());
        REQUIRE(ms.wait_attached());
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            std::ofstream(writers.path + "/cgroup.procs") << getpid() << std::endl;
            _exit(file.direct_writes(block, writes) ? 0 : 1);
        }
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        std::vector<json> in_us = json_lines(us.stop().out);
        std::vector<json> in_ms = json_lines(ms.stop().out);
        REQUIRE(in_us.size() == 1);
        REQUIRE(in_ms.size() == 1);
        CHECK(in_ms[0].at("total").get<uint64_t>() > 0);
        check_same_in_milliseconds(in_us[0], in_ms[0]);
    }
    SECTION("text") {
        Finished r = trace_writes({"-m"}, file);
        CHECK(lines(r.out).at(0) == "     msecs               : count    distribution");
        CHECK(text_total(r.out) >= writes);
    }
}

TEST_CASE("biolatency -Q starts the clock at insert", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    Finished r = trace_writes({"-Q", "-v", "-o", "json"}, file);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("block_rq_insert") != std::string::npos);
    std::vector<json> records = json_lines(r.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("queued") == true);
    CHECK(records[0].at("total").get<uint64_t>() >= writes);
}

TEST_CASE("biolatency 1 2 prints two histograms and exits by itself", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    SECTION("text, with -T") {
        BackgroundWriter writer(file);
        Finished r = run({tool_path("biolatency"), "-T", "1", "2"}, 10);
        CHECK(writer.stop());
        CHECK(r.exit_code == 0);
        CHECK(r.signal == 0);
        CHECK(count_lines(r.out, std::regex("usecs +: count +distribution")) == 2);
        CHECK(count_lines(r.out, std::regex(R"(^\d\d:\d\d:\d\d$)")) == 2);
        CHECK(lines(r.out).at(0).size() == 8); // the time line comes first
    }
    SECTION("JSON") {
        BackgroundWriter writer(file);
        double started = now_s();
        Finished r = run({tool_path("biolatency"), "-o", "json", "1", "2"}, 10);
        double wall = now_s() - started;
        CHECK(writer.stop());
        CHECK(r.exit_code == 0);
        std::vector<json> records = json_lines(r.out);
        REQUIRE(records.size() == 2);
        check_intervals(records, 1, wall);
        for (const json& h : records) {
            CHECK(h.at("total").get<uint64_t>() > 0);
        }
        CHECK(records[0].at("time") != records[1].at("time"));
    }
}

TEST_CASE("biolatency -d stops after that long and prints the histogram", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    BackgroundWriter writer(file);
    Finished r = run({tool_path("biolatency"), "-d", "2", "-o", "json"}, 10);
    CHECK(writer.stop());
    CHECK(r.exit_code == 0);
    CHECK(r.signal == 0);
    std::vector<json> records = json_lines(r.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("total").get<uint64_t>() > 0);
}

TEST_CASE("biolatency --dry-run shows the three tracepoints of its plan", "[biolatency]") {
    REQUIRE_BPF();
    Finished plain = run({tool_path("biolatency"), "--dry-run"});
    CHECK(plain.exit_code == 0);
    CHECK(plain.out.find("block_rq_issue") != std::string::npos);
    CHECK(plain.out.find("block_rq_complete") != std::string::npos);
    CHECK(plain.out.find("block_rq_insert") == std::string::npos);

    Finished queued = run({tool_path("biolatency"), "--dry-run", "-Q", "-o", "json"});
    CHECK(queued.exit_code == 0);
    std::vector<json> records = json_lines(queued.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("type") == "attach_plan");
    std::set<std::string> targets, kinds;
    for (const json& step : records[0].at("steps"))
        for (const json& point : step.at("attach")) {
            targets.insert(point.at("target").get<std::string>());
            kinds.insert(point.at("kind").get<std::string>());
        }
    CHECK(targets.size() == 3);
    CHECK(kinds.size() == 1); // start and completion from one tier
}

TEST_CASE("biolatency -c counts only the I/O of tasks in that cgroup", "[biolatency]") {
    REQUIRE_BPF();
    ScratchFile file(block * file_blocks);
    REQUIRE(file.ok());
    TestCgroup writers(unique_token("biolatency-writers"));
    TestCgroup empty(unique_token("biolatency-empty"));
    if (writers.path.empty() || empty.path.empty()) {
        SKIP_CASE("no writable cgroup v2 mount");
    }
    ToolProcess mine({tool_path("biolatency"), "-c", writers.path, "-o", "json"});
    ToolProcess nobody({tool_path("biolatency"), "-c", empty.path, "-o", "json"});
    REQUIRE(mine.wait_attached());
    REQUIRE(nobody.wait_attached());
    // The writes come from a child that the test moves into the cgroup.
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::ofstream(writers.path + "/cgroup.procs") << getpid() << std::endl;
        _exit(file.direct_writes(block, writes) ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    Finished m = mine.stop();
    Finished n = nobody.stop();
    CHECK(m.exit_code == 0);
    CHECK(n.exit_code == 0);
    std::vector<json> counted = json_lines(m.out);
    std::vector<json> none = json_lines(n.out);
    REQUIRE(counted.size() == 1);
    REQUIRE(none.size() == 1);
    // A direct write is issued by its writer; a few may be dispatched later
    // by the block layer's worker, outside the cgroup.
    CHECK(counted[0].at("total").get<uint64_t>() >= writes * 9 / 10);
    CHECK(counted[0].at("total").get<uint64_t>() <= writes * 2);
    CHECK(none[0].at("total").get<uint64_t>() == 0);
}

TEST_CASE("biolatency -c with a path that is not a cgroup fails in one line", "[biolatency]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("biolatency"), "-c", "/nonexistent-cgroup"});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("/nonexistent-cgroup") != std::string::npos);
    CHECK(lines(r.err).size() <= 2);
}

} // namespace test_biolatency
