// cpudist against children of this test that alternate a known stretch of
// CPU work with a known sleep, so both their on-CPU and their off-CPU
// times have a known bucket.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <time.h>

namespace test_cpudist {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int cycles = 12;
constexpr long busy_us = 300; // on-CPU: the 256 -> 511 usecs bucket
constexpr long sleep_ms = 20; // off-CPU: the 16 -> 31 msecs bucket

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

// cycles times: spin for busy_us of this thread's CPU time, then sleep sleep_ms.
int work() {
    for (int i = 0; i < cycles; i++) {
        double end = thread_cpu_s() + busy_us / 1e6;
        while (thread_cpu_s() < end) {
        }
        timespec nap{0, sleep_ms * 1000000};
        nanosleep(&nap, nullptr);
    }
    return 0;
}

// The count in the bucket [low, high] of a JSON histogram (0 if absent).
uint64_t bucket(const json& h, uint64_t low, uint64_t high) {
    for (const json& b : h.at("buckets"))
        if (b.at("low") == low && b.at("high") == high) return b.at("count").get<uint64_t>();
    return 0;
}

// The count in buckets at or above low.
uint64_t from(const json& h, uint64_t low) {
    uint64_t n = 0;
    for (const json& b : h.at("buckets"))
        if (b.at("low").get<uint64_t>() >= low) n += b.at("count").get<uint64_t>();
    return n;
}

// The histogram whose key field is id, or null.
json find(const std::vector<json>& records, const char* key, pid_t id) {
    for (const json& h : records)
        if (h.contains(key) && h.at(key) == id) return h;
    return nullptr;
}

} // namespace

// Each sleep ends one off-CPU stretch of about 20 ms (longer by the timer's
// slack and the run-queue wait, which a loaded CI host makes milliseconds,
// hence "at least half" rather than all); each run between sleeps is one
// on-CPU stretch of 300 us of CPU, unless preempted into shorter pieces. A
// tool that swapped the two, lost the stamp, or counted in the wrong unit
// would put none there.
TEST_CASE("cpudist puts known busy and sleep stretches in their buckets", "[cpudist]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("cdist-");
    std::string other_comm = unique_comm("cdoth-");
    GatedChild child(work, comm.c_str());
    GatedChild other(work, other_comm.c_str());
    std::string pid = std::to_string(child.pid());
    ToolProcess on_json({tool_path("cpudist"), "-P", "-p", pid, "-o", "json"});
    ToolProcess off_text({tool_path("cpudist"), "-O", "-m", "-T", "-P", "-p", pid});
    ToolProcess off_all({tool_path("cpudist"), "-O", "-m", "-L", "-o", "json"});
    REQUIRE(on_json.wait_attached());
    REQUIRE(off_text.wait_attached());
    REQUIRE(off_all.wait_attached());
    REQUIRE(child.run() == 0);
    REQUIRE(other.run() == 0);
    Finished on = on_json.stop();
    Finished off = off_text.stop();
    Finished all = off_all.stop();
    REQUIRE(on.exit_code == 0);
    REQUIRE(off.exit_code == 0);
    REQUIRE(all.exit_code == 0);

    // On-CPU, per process, -p: only the child, its runs in 256 -> 511 usecs,
    // none near a sleep's length.
    auto on_records = json_lines(on.out);
    REQUIRE(on_records.size() == 1);
    const json& h = on_records[0];
    CHECK(h.at("pid") == child.pid());
    CHECK(h.at("comm") == comm);
    CHECK(h.at("unit") == "usecs");
    CHECK(bucket(h, 256, 511) >= cycles / 2);
    CHECK(bucket(h, 256, 511) <= cycles + 1); // + 1: the run that reads the gate
    CHECK(from(h, 16384) == 0);

    // Off-CPU in milliseconds, text, per process: the -T time line, the
    // label line, then the sleeps in 16 -> 31; nothing of the other child.
    auto text = lines(off.out);
    REQUIRE(!text.empty());
    CHECK((text[0].size() == 8 && text[0][2] == ':' && text[0][5] == ':'));
    CHECK(off.out.find("pid = " + pid + " " + comm) != std::string::npos);
    CHECK(off.out.find(other_comm) == std::string::npos);
    CHECK(off.out.find("msecs") != std::string::npos);
    bool row_found = false;
    for (const std::string& line : lines(off.out)) {
        auto f = fields(line);
        // "16 -> 31 : COUNT |***|"
        if (f.size() >= 5 && f[0] == "16" && f[1] == "->" && f[2] == "31") {
            row_found = true;
            long count = std::stol(f[4]);
            CHECK(count >= cycles / 2);
            CHECK(count <= cycles);
        }
    }
    CHECK(row_found);

    // Off-CPU, system-wide, per thread: both children, each under its name,
    // their sleeps in 16 -> 31 msecs.
    auto per_thread = json_lines(all.out);
    for (auto [id, name] : {std::pair{child.pid(), comm}, std::pair{other.pid(), other_comm}}) {
        json t = find(per_thread, "tid", id);
        REQUIRE(!t.is_null());
        CHECK(t.at("comm") == name);
        CHECK(t.at("unit") == "msecs");
        CHECK(bucket(t, 16, 31) >= cycles / 2);
        CHECK(bucket(t, 16, 31) <= cycles);
        CHECK(!t.contains("pid"));
    }
}

TEST_CASE("cpudist rejects -P with -L", "[cpudist]") {
    Finished r = run({tool_path("cpudist"), "-P", "-L"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("-L") != std::string::npos);
}

} // namespace test_cpudist
