// funccount against a workload of the test's own (func_workload.h): known
// functions of libfuncwork.so called known numbers of times, 20 ms sleeps
// (clock_nanosleep), and a USDT probe; a second workload with other
// numbers is the other side of -p.
#include "func_workload.h"
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <unistd.h>
#include <nlohmann/json.hpp>

namespace test_funccount {

using namespace itest;
using nlohmann::json;

namespace {

// FUNC -> COUNT from the text table.
std::map<std::string, uint64_t> text_counts(const std::string& out) {
    std::map<std::string, uint64_t> counts;
    for (const std::string& line : lines(out)) {
        std::vector<std::string> f = fields(line);
        if (f.size() == 2 && f[0] != "FUNC") counts[f[0]] = std::stoull(f[1]);
    }
    return counts;
}

// The one summary record's entries, func -> count.
std::map<std::string, uint64_t> json_counts(const std::string& out, json* record = nullptr) {
    std::vector<json> records = json_lines(out);
    REQUIRE(records.size() == 1);
    std::map<std::string, uint64_t> counts;
    for (const json& e : records[0].at("entries"))
        counts[e.at("func").get<std::string>()] = e.at("count").get<uint64_t>();
    if (record) *record = records[0];
    return counts;
}

} // namespace

TEST_CASE("funccount counts user functions, tracepoints and USDT probes exactly, -p both sides",
          "[funccount]") {
    REQUIRE_BPF();
    FuncWorkload mine(7, 3, 5, 4);
    FuncWorkload other(2, 1, 1, 1);
    std::string lib = func_library_path();
    // By library name, found in the process's maps; by path, for everyone.
    ToolProcess text({tool_path("funccount"), "-p", mine.pid_text(), "funcwork:fc_*"});
    ToolProcess all({tool_path("funccount"), "-o", "json", lib + ":fc_*"});
    ToolProcess sleeps({tool_path("funccount"), "-o", "json", "-p", mine.pid_text(),
                        "t:syscalls:sys_enter_*nanosleep"});
    ToolProcess ticks_other(
        {tool_path("funccount"), "-p", other.pid_text(), "-r", "u:func_workload:^ti.k$"});
    ToolProcess ticks_all(
        {tool_path("funccount"), "-o", "json", "u:" + func_workload_path() + ":funcwork:tick"});
    for (ToolProcess* p : {&text, &all, &sleeps, &ticks_other, &ticks_all})
        REQUIRE(p->wait_attached());
    REQUIRE(mine.go() == 0);
    REQUIRE(other.go() == 0);

    Finished t = text.stop();
    CHECK(t.exit_code == 0);
    INFO(t.out);
    REQUIRE(!lines(t.out).empty());
    CHECK(lines(t.out)[0].rfind("FUNC", 0) == 0);
    CHECK(lines(t.out)[0].find("COUNT") == 40);
    CHECK(text_counts(t.out) ==
          std::map<std::string, uint64_t>{{"fc_alpha", 7}, {"fc_beta", 3}, {"fc_slow", 5}});
    // Fewest calls first, as bcc prints them.
    CHECK(t.out.find("fc_beta") < t.out.find("fc_slow"));
    CHECK(t.out.find("fc_slow") < t.out.find("fc_alpha"));

    json record;
    Finished a = all.stop();
    INFO(a.out);
    CHECK(json_counts(a.out, &record) ==
          std::map<std::string, uint64_t>{{"fc_alpha", 9}, {"fc_beta", 4}, {"fc_slow", 6}});
    CHECK(record.at("total") == 19);
    CHECK(record.at("distinct") == 3);
    CHECK(record.at("time").is_string());
    CHECK(record.at("interval_s").get<double>() > 0);

    Finished s = sleeps.stop();
    INFO(s.out);
    // glibc's nanosleep is the clock_nanosleep system call; the other
    // workload's sleep is not counted.
    CHECK(json_counts(s.out) ==
          std::map<std::string, uint64_t>{{"syscalls:sys_enter_clock_nanosleep", 5}});

    Finished to = ticks_other.stop();
    INFO(to.out);
    CHECK(text_counts(to.out) == std::map<std::string, uint64_t>{{"funcwork:tick", 1}});
    Finished ta = ticks_all.stop();
    INFO(ta.out);
    CHECK(json_counts(ta.out) == std::map<std::string, uint64_t>{{"funcwork:tick", 5}});
}

TEST_CASE("funccount: a missing library, a pattern matching nothing and a bad probe each say so "
          "in one line",
          "[funccount]") {
    REQUIRE_BPF();
    Finished missing = run({tool_path("funccount"), "no_such_library_xyz:fc_*"});
    CHECK(missing.exit_code == 1);
    CHECK(lines(missing.err).size() == 1);
    CHECK(missing.err.find("cannot find library 'no_such_library_xyz'") != std::string::npos);
    CHECK(missing.out.empty());

    Finished nothing = run({tool_path("funccount"), func_library_path() + ":zz_none*"});
    CHECK(nothing.exit_code == 1);
    CHECK(lines(nothing.err).size() == 1);
    CHECK(nothing.err.find("no function matches 'zz_none*' in " + func_library_path()) !=
          std::string::npos);

    Finished no_tp = run({tool_path("funccount"), "t:no_such_category:*"});
    CHECK(no_tp.exit_code == 1);
    CHECK(no_tp.err.find("no tracepoint matches 'no_such_category:*'") != std::string::npos);

    Finished bad = run({tool_path("funccount"), "t:sched"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("invalid probe 't:sched'") != std::string::npos);
    Finished regex = run({tool_path("funccount"), "-r", "c:("});
    CHECK(regex.exit_code == 2);
    CHECK(regex.err.find("invalid regular expression '('") != std::string::npos);
}

TEST_CASE("funccount counts kernel functions where the kernel has kprobes, and says what is "
          "missing where not",
          "[funccount]") {
    REQUIRE_BPF();
    if (kernel_has_kprobes()) {
        // The 6.1 guest: do_nanosleep runs for each of the workload's sleeps.
        FuncWorkload mine(0, 0, 3, 0);
        ToolProcess p({tool_path("funccount"), "-p", mine.pid_text(), "do_nanosleep"});
        REQUIRE(p.wait_attached());
        REQUIRE(mine.go() == 0);
        Finished r = p.stop();
        CHECK(text_counts(r.out) == std::map<std::string, uint64_t>{{"do_nanosleep", 3}});
    } else {
        Finished r = run({tool_path("funccount"), "vfs_read"});
        CHECK(r.exit_code == 1);
        CHECK(lines(r.err).size() == 1);
        CHECK(r.err.find("no way to trace kernel functions 'vfs_read'") != std::string::npos);
        CHECK(r.err.find("kernel has no kprobes") != std::string::npos);
        CHECK(r.out.empty());
    }
}

TEST_CASE("funccount and funclatency -i print every interval, -T with its time, until -d",
          "[funccount]") {
    REQUIRE_BPF();
    double started = now_s();
    ToolProcess count(
        {tool_path("funccount"), "-T", "-i", "1", "-d", "2.5", "t:syscalls:sys_enter_getppid"});
    ToolProcess latency(
        {tool_path("funclatency"), "-o", "json", "-T", "-i", "1", "-d", "2.5", "c:getppid"});
    for (ToolProcess* p : {&count, &latency})
        REQUIRE(p->wait_attached());
    getppid();
    Finished c = count.wait(10);
    Finished l = latency.wait(10);
    CHECK(now_s() - started >= 2.5);
    CHECK(c.exit_code == 0);
    CHECK(l.exit_code == 0);
    INFO(c.out);
    // Two whole intervals and the last half one, each under its time line.
    std::vector<std::string> times;
    for (const std::string& line : lines(c.out))
        if (std::regex_match(line, std::regex(R"(\[\d\d:\d\d:\d\d\])"))) times.push_back(line);
    CHECK(times.size() == 3);
    CHECK(lines_containing(c.out, "FUNC").size() == 3);
    INFO(l.out);
    std::vector<json> records = json_lines(l.out);
    CHECK(records.size() == 3);
    for (const json& r : records)
        CHECK(r.at("probe") == "c:getppid");
}

} // namespace test_funccount
