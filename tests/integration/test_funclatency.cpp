// funclatency against func_workload.h's functions: fc_slow sleeps 20 ms a
// call, so every call falls in the 16-31 ms bucket (16384-32767 us); a
// second workload with other numbers is the other side of -p and -P.
#include "func_workload.h"
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

namespace test_funclatency {

using namespace itest;
using nlohmann::json;

namespace {

// The count of the bucket [low, high] of a histogram record; -1 if none.
int64_t bucket_count(const json& record, uint64_t low, uint64_t high) {
    for (const json& b : record.at("buckets"))
        if (b.at("low") == low && b.at("high") == high) return b.at("count").get<int64_t>();
    return -1;
}

} // namespace

TEST_CASE("funclatency puts each 20 ms call in its bucket, in ms and us, -p and -P both sides",
          "[funclatency]") {
    REQUIRE_BPF();
    FuncWorkload mine(7, 3, 5, 0);
    FuncWorkload other(2, 1, 1, 0);
    std::string lib = func_library_path();
    ToolProcess ms({tool_path("funclatency"), "-m", "-p", mine.pid_text(), "funcwork:fc_slow"});
    ToolProcess us(
        {tool_path("funclatency"), "-o", "json", "--microseconds", "-r", lib + ":^fc_sl.w$"});
    ToolProcess per({tool_path("funclatency"), "-o", "json", "-P", lib + ":fc_alpha"});
    for (ToolProcess* p : {&ms, &us, &per})
        REQUIRE(p->wait_attached());
    REQUIRE(mine.go() == 0);
    REQUIRE(other.go() == 0);

    Finished m = ms.stop();
    CHECK(m.exit_code == 0);
    INFO(m.out);
    CHECK(lines_containing(m.out, "msecs").size() == 1);
    // A sleep ends late, never early: none below 16 ms, most (all on a quiet
    // machine) in 16-31 ms, a late wake-up on a busy one in the next.
    std::vector<std::string> row = lines_containing(m.out, " 16 -> 31 ");
    REQUIRE(row.size() == 1);
    uint64_t in_bucket = std::stoull(fields(row[0]).at(4));
    CHECK(in_bucket >= 3);
    uint64_t below = 0, above = 0;
    bool past = false;
    for (const std::string& line : lines_containing(m.out, "|")) {
        if (line.find(" 16 -> 31 ") != std::string::npos) {
            past = true;
            continue;
        }
        (past ? above : below) += std::stoull(fields(line).at(4));
    }
    CHECK(below == 0);
    CHECK(in_bucket + above == 5);

    Finished u = us.stop();
    INFO(u.out);
    std::vector<json> records = json_lines(u.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("type") == "histogram");
    CHECK(records[0].at("unit") == "usecs");
    CHECK(records[0].at("probe") == lib + ":^fc_sl.w$");
    CHECK(records[0].at("total") == 6); // 5 + the other workload's 1
    CHECK(bucket_count(records[0], 16384, 32767) >= 4);
    for (const json& b : records[0].at("buckets"))
        if (b.at("high") < 16384) CHECK(b.at("count") == 0);

    Finished p = per.stop();
    INFO(p.out);
    std::map<int64_t, json> by_pid;
    for (const json& r : json_lines(p.out))
        by_pid[r.at("pid").get<int64_t>()] = r;
    REQUIRE(by_pid.size() == 2);
    CHECK(by_pid.at(mine.pid()).at("total") == 7);
    CHECK(by_pid.at(mine.pid()).at("comm") == "func_workload");
    CHECK(by_pid.at(mine.pid()).at("unit") == "nsecs");
    CHECK(by_pid.at(other.pid()).at("total") == 2);
}

TEST_CASE("funclatency refuses what it cannot time, in one line", "[funclatency]") {
    REQUIRE_BPF();
    Finished tp = run({tool_path("funclatency"), "t:sched:sched_switch"});
    CHECK(tp.exit_code == 2);
    CHECK(tp.err.find("tracepoints and USDT probes have no return") != std::string::npos);
    Finished units = run({tool_path("funclatency"), "-m", "--microseconds", "c:malloc"});
    CHECK(units.exit_code == 2);
    Finished missing = run({tool_path("funclatency"), "no_such_library_xyz:f"});
    CHECK(missing.exit_code == 1);
    CHECK(lines(missing.err).size() == 1);
    CHECK(missing.err.find("cannot find library 'no_such_library_xyz'") != std::string::npos);
}

TEST_CASE("funclatency times a kernel function where the kernel has fentry or kprobes",
          "[funclatency]") {
    REQUIRE_BPF();
    if (!kernel_has_kprobes()) {
        // The development kernel: no kprobes, and fentry refused.
        Finished kernel = run({tool_path("funclatency"), "vfs_read"});
        CHECK(kernel.exit_code == 1);
        CHECK(lines(kernel.err).size() == 1);
        CHECK(kernel.err.find("no way to trace kernel function 'vfs_read'") != std::string::npos);
        CHECK(kernel.err.find("kernel has no kprobes") != std::string::npos);
        CHECK(kernel.out.empty());
        return;
    }
    FuncWorkload mine(0, 0, 3, 0);
    ToolProcess p(
        {tool_path("funclatency"), "-m", "-o", "json", "-p", mine.pid_text(), "do_nanosleep"});
    REQUIRE(p.wait_attached());
    REQUIRE(mine.go() == 0);
    Finished r = p.stop();
    std::vector<json> records = json_lines(r.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("total") == 3);
    CHECK(bucket_count(records[0], 16, 31) >= 2); // a late wake-up goes to 32-63
}

} // namespace test_funclatency
