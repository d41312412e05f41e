// wqlat against the workqueue of a loop device this test sets up: a loop
// device queues its work item on its own workqueue ("loopN") for a request
// unless the item is already pending (a worker still running takes up
// requests that come meanwhile), so the test knows the workqueue's name, and
// counts the queueings its writes made with a tracefs instance of its own.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace test_wqlat {

using namespace itest;
using nlohmann::json;

namespace {

// count synchronous 4 KiB O_DIRECT writes to the device: each is a request
// the loop device's work item serves before the write returns.
bool direct_writes(const std::string& device, int count) {
    int fd = open(device.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) return false;
    void* buffer = aligned_alloc(4096, 4096);
    bool ok = buffer != nullptr;
    for (int i = 0; ok && i < count; i++)
        ok = pwrite(fd, buffer, 4096, static_cast<off_t>(i) * 4096) == 4096;
    free(buffer);
    close(fd);
    return ok;
}

// The kernel's own count of workqueue_queue_work events on one workqueue,
// from a tracefs instance of the test's own, between start() and count().
class QueueingCount {
  public:
    explicit QueueingCount(const std::string& workqueue)
        : dir_("/sys/kernel/tracing/instances/" + unique_token("t15-wqlat")),
          workqueue_(workqueue) {}
    ~QueueingCount() { rmdir(dir_.c_str()); }
    bool start() {
        std::string event = dir_ + "/events/workqueue/workqueue_queue_work/";
        return mkdir(dir_.c_str(), 0700) == 0 &&
               write_text(event + "filter", "workqueue == \"" + workqueue_ + "\"") &&
               write_text(event + "enable", "1");
    }
    uint64_t count() {
        write_text(dir_ + "/tracing_on", "0");
        std::ifstream in(dir_ + "/trace");
        uint64_t n = 0;
        for (std::string line; std::getline(in, line);)
            if (line.find("workqueue_queue_work:") != std::string::npos) n++;
        return n;
    }

  private:
    std::string dir_;
    std::string workqueue_;
};

uint64_t bucket_sum(const json& histogram) {
    uint64_t n = 0;
    for (const json& b : histogram.at("buckets"))
        n += b.at("count").get<uint64_t>();
    return n;
}

} // namespace

TEST_CASE("wqlat counts the work a loop device queues on its own workqueue", "[wqlat]") {
    REQUIRE_BPF();
    if (!have_command("losetup")) SKIP_CASE("no losetup");
    LoopDisk loop(1 << 20);
    REQUIRE(!loop.path().empty());
    constexpr int writes = 40;

    std::string btf = "/tmp/" + unique_token("t15-wqlat-btf");
    REQUIRE(sh("cp /sys/kernel/btf/vmlinux " + btf));

    // -W shows every workqueue, the loop device's among them; -w only it.
    ToolProcess jsonl({tool_path("wqlat"), "-W", "-o", "json"});
    ToolProcess text({tool_path("wqlat"), "-w", loop.name(), "-m", "-T"});
    ToolProcess nanos(
        {tool_path("wqlat"), "-w", loop.name(), "-N", "-o", "json", "--btf", btf, "-v"});
    ToolProcess exec({tool_path("wqlat"), "-E", "-o", "json"});
    REQUIRE(jsonl.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(nanos.wait_attached());
    REQUIRE(exec.wait_attached());
    QueueingCount queueings(loop.name());
    REQUIRE(queueings.start());
    REQUIRE(direct_writes(loop.path(), writes));
    uint64_t made = queueings.count();
    // Most writes find the worker idle and queue it (36 to 40 of 40 here).
    REQUIRE(made >= writes / 4);
    // A tool counts an item when it starts, and the last one queued may
    // start a moment after the last write returned; one fewer still fails
    // a tool that loses items or counts another workqueue's.
    uint64_t least = made - 1;
    Finished j = jsonl.stop();
    Finished t = text.stop();
    Finished n = nanos.stop();
    Finished e = exec.stop();
    unlink(btf.c_str());
    CHECK(j.exit_code == 0);
    CHECK(t.exit_code == 0);
    CHECK(n.exit_code == 0);
    CHECK(e.exit_code == 0);

    // udev may probe the new device too: at least the test's queueings.
    int loop_histograms = 0;
    for (const json& h : json_lines(j.out)) {
        INFO(h.dump());
        CHECK(h.at("type") == "histogram");
        CHECK(h.at("unit") == "usecs");
        CHECK(h.at("workqueue").is_string());
        CHECK(bucket_sum(h) == h.at("total"));
        if (h.at("workqueue") != loop.name()) continue;
        loop_histograms++;
        CHECK(h.at("total").get<uint64_t>() >= least);
    }
    CHECK(loop_histograms == 1);

    // -N: the same workqueue in nanoseconds; -v prints the plan.
    CHECK(n.err.find("wqlat: attach plan") != std::string::npos);
    std::vector<json> in_ns = json_lines(n.out);
    REQUIRE(in_ns.size() == 1);
    CHECK(in_ns[0].at("workqueue") == loop.name());
    CHECK(in_ns[0].at("unit") == "nsecs");
    CHECK(in_ns[0].at("total").get<uint64_t>() >= least);
    // Handing work to a worker takes far more than a nanosecond: a median
    // in the first bucket would be microseconds counted as nanoseconds.
    CHECK(in_ns[0].at("p50").get<uint64_t>() > 1);

    INFO(t.out);
    CHECK(lines_containing(t.out, "workqueue = ").size() == 1);
    CHECK(lines_containing(t.out, "workqueue = " + loop.name()).size() == 1);
    CHECK(t.out.find("msecs") != std::string::npos);
    REQUIRE(!t.out.empty());
    CHECK(std::regex_match(lines(t.out)[0], std::regex("[0-9]{2}:[0-9]{2}:[0-9]{2}"))); // -T
    uint64_t counted = 0;
    for (const std::string& row : lines_containing(t.out, "|")) {
        std::vector<std::string> f = fields(row);
        // "low -> high : count |bars|"
        REQUIRE(f.size() >= 5);
        counted += std::stoull(f[4]);
    }
    CHECK(counted >= least);

    // The loop device's work function ran for each queueing: counted at its
    // end, so the run that served the last write may still be going too.
    bool loop_function = false;
    for (const json& h : json_lines(e.out)) {
        std::string function = h.at("function");
        if (function.find("loop") == 0 && function.find("workfn") != std::string::npos) {
            loop_function = true;
            CHECK(h.at("total").get<uint64_t>() + 1 >= least);
        }
    }
    CHECK(loop_function);
}

TEST_CASE("wqlat interval and -d: a summary every interval until the duration ends", "[wqlat]") {
    REQUIRE_BPF();
    // Without -W the one histogram prints every interval, even empty: one
    // after a second, and the last half second's as -d ends it.
    Finished f = run({tool_path("wqlat"), "-o", "json", "-d", "1.5", "1"});
    CHECK(f.exit_code == 0);
    std::vector<json> summaries = json_lines(f.out);
    CHECK(summaries.size() >= 2);
    CHECK(summaries.size() <= 3);
    for (const json& s : summaries) {
        CHECK(s.at("type") == "histogram");
        CHECK(s.at("interval_s").get<double>() < 1.3);
        CHECK(!s.contains("workqueue"));
    }
}

} // namespace test_wqlat
