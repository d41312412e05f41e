// llcstat: where the machine has no hardware cache counters (this VM: no
// CPU PMU), one line saying so and exit 1, checked against the kernel
// itself; where it has them, a child's busy loop over a buffer larger than
// the cache shows with references and misses.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <linux/perf_event.h>
#include <nlohmann/json.hpp>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace test_llcstat {

using namespace itest;
using nlohmann::json;

namespace {

// Whether perf_event_open can count cache misses on CPU 0.
bool cache_counters_here() {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_CACHE_MISSES;
    attr.disabled = 1;
    int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, 0));
    if (fd < 0) return false;
    close(fd);
    return true;
}

// Strides through 64 MiB a few times: cache references and misses.
int stride() {
    std::vector<char> buffer(64 << 20);
    unsigned sum = 0;
    for (int round = 0; round < 4; round++)
        for (size_t i = 0; i < buffer.size(); i += 64)
            sum += static_cast<unsigned char>(buffer[i]++);
    return sum == 12345 ? 1 : 0;
}

} // namespace

TEST_CASE("llcstat without hardware cache counters says so in one line and exits 1; with them it "
          "counts a child's references and misses",
          "[llcstat]") {
    REQUIRE_BPF();
    if (!cache_counters_here()) {
        // Truly absent: the counter cannot be opened, and no CPU PMU.
        CHECK(access("/sys/bus/event_source/devices/cpu", F_OK) != 0);
        Finished r = run({tool_path("llcstat"), "-d", "1"});
        Finished dry = run({tool_path("llcstat"), "--dry-run"});
        for (const Finished* f : {&r, &dry}) {
            CHECK(f->exit_code == 1);
            CHECK(std::count(f->err.begin(), f->err.end(), '\n') == 1);
            CHECK(f->err.find("llcstat: no hardware cache counters here") == 0);
            CHECK(f->err.find("PERF_COUNT_HW_CACHE_MISSES") != std::string::npos);
            CHECK(f->err.find("no CPU PMU") != std::string::npos);
            CHECK(f->out.empty());
        }
        return;
    }
    GatedChild child(stride, "llc-child");
    std::string pid = std::to_string(child.pid());
    ToolProcess jsonl({tool_path("llcstat"), "-p", pid, "-o", "json", "--per-thread"});
    REQUIRE(jsonl.wait_attached());
    REQUIRE(child.run() == 0);
    Finished j = jsonl.stop();
    INFO(j.out << j.err);
    CHECK(j.exit_code == 0);
    uint64_t references = 0;
    for (const json& t : json_lines(j.out))
        for (const json& e : t.at("entries")) {
            CHECK(e.at("pid") == child.pid());
            references += e.at("references").get<uint64_t>();
        }
    CHECK(references > 0);
}

TEST_CASE("llcstat refuses a sample period of 0 with exit 2", "[llcstat]") {
    Finished r = run({tool_path("llcstat"), "--sample-period", "0"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'0'") != std::string::npos);
}

} // namespace test_llcstat
