// compactsnoop against a compaction this test asks for: a child of its own
// writes 1 to /proc/sys/vm/compact_memory, which compacts every populated
// zone of every online node in the child's own context, one
// mm_compaction_begin/end pair per zone, for the whole zone (order -1) in
// MIGRATE_SYNC mode. /proc/zoneinfo says which zones there are.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace test_compactsnoop {

using namespace itest;
using nlohmann::json;

namespace {

const char* const compact_memory = "/proc/sys/vm/compact_memory";

struct Zone {
    uint64_t present = 0;
};

// "node zone" -> the zone, for every zone /proc/zoneinfo lists with pages.
std::map<std::string, Zone> populated_zones() {
    std::ifstream in("/proc/zoneinfo");
    std::map<std::string, Zone> zones;
    std::string line, current;
    std::regex header("Node ([0-9]+), zone +([A-Za-z0-9]+)");
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, header)) {
            current = m[1].str() + " " + m[2].str();
            continue;
        }
        std::istringstream words(line);
        std::string key;
        uint64_t value = 0;
        if (!current.empty() && words >> key >> value && key == "present" && value > 0)
            zones[current].present = value;
    }
    return zones;
}

const std::set<std::string> statuses = {"not_suitable_zone", "skipped",   "deferred",
                                        "no_suitable_page",  "continue",  "complete",
                                        "partial_skipped",   "contended", "success"};

std::function<void()> skip_attach(const char* kinds) {
    return [kinds] { setenv("CORESCOPE_SKIP_ATTACH", kinds, 1); };
}

} // namespace

TEST_CASE("compactsnoop shows the compaction of every zone the test's writer to compact_memory "
          "ran, on both tiers",
          "[compactsnoop]") {
    REQUIRE_BPF();
    if (access(compact_memory, W_OK) != 0) SKIP_CASE("no /proc/sys/vm/compact_memory");
    std::map<std::string, Zone> zones = populated_zones();
    REQUIRE(!zones.empty());
    TestCgroup cgroup(unique_token("t16-compactsnoop"));
    if (cgroup.path.empty()) SKIP_CASE("no cgroup v2 hierarchy for -c");
    std::string btf = "/tmp/" + unique_token("t16-compactsnoop-btf");
    REQUIRE(sh("cp /sys/kernel/btf/vmlinux " + btf));
    std::string comm = unique_comm("cpsn-");
    GatedChild child(
        [&] {
            if (!cgroup.add(getpid())) return 4;
            return write_text(compact_memory, "1") ? 0 : 3;
        },
        comm.c_str());
    GatedChild other([] { return 0; });
    std::string pid = std::to_string(child.pid());
    ToolProcess jsonl({tool_path("compactsnoop"), "-o", "json", "-p", pid});
    ToolProcess by_ids({tool_path("compactsnoop"), "-o", "json", "-t", pid, "-u", "0", "-c",
                        cgroup.path, "-v", "--btf", btf});
    ToolProcess text({tool_path("compactsnoop"), "-e", "-T", "-U", "-n", comm},
                     ToolProcess::Stdout::pipe, skip_attach("tp_btf"));
    ToolProcess not_it(
        {tool_path("compactsnoop"), "-o", "json", "-p", std::to_string(other.pid())});
    REQUIRE(jsonl.wait_attached());
    REQUIRE(by_ids.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(not_it.wait_attached());
    double started = now_s();
    REQUIRE(child.run() == 0);
    double wall_ms = (now_s() - started) * 1000;
    REQUIRE(other.run() == 0);
    Finished j = jsonl.stop();
    Finished ids = by_ids.stop();
    Finished t = text.stop();
    Finished o = not_it.stop();
    unlink(btf.c_str());
    CHECK(ids.err.find("compactsnoop: attach plan") != std::string::npos); // -v
    CHECK(j.exit_code == 0);
    CHECK(ids.exit_code == 0);
    CHECK(t.exit_code == 0);
    CHECK(o.exit_code == 0);
    CHECK(o.out.empty());

    // One event per populated zone, each for the whole zone, in sync mode.
    std::vector<json> events = json_lines(j.out);
    std::set<std::string> seen;
    double total_ms = 0;
    for (const json& e : events) {
        INFO(e.dump());
        CHECK(e.at("pid") == child.pid());
        CHECK(e.at("tid") == child.pid());
        CHECK(e.at("uid") == 0);
        CHECK(e.at("comm") == comm);
        std::string zone =
            std::to_string(e.at("node").get<int>()) + " " + e.at("zone").get<std::string>();
        CHECK(zones.count(zone) == 1);
        CHECK(seen.insert(zone).second);
        CHECK(e.at("order") == -1);
        CHECK(e.at("mode") == "sync");
        CHECK(statuses.count(e.at("status").get<std::string>()) == 1);
        double ms = e.at("latency_ms").get<double>();
        CHECK(ms > 0);
        total_ms += ms;
        // The watermarks are min, min + d and min + 2d; the free pages at
        // most the zone's present ones.
        uint64_t min = e.at("min_pages"), low = e.at("low_pages"), high = e.at("high_pages");
        CHECK(min <= low);
        CHECK(high - low == low - min);
        CHECK(e.at("free_pages").get<uint64_t>() <= zones[zone].present);
        CHECK(high <= zones[zone].present);
    }
    CHECK(seen.size() == zones.size());
    CHECK(total_ms < wall_ms); // one zone after the other, inside the write
    std::vector<json> filtered = json_lines(ids.out);
    CHECK(filtered.size() == events.size());
    for (const json& e : filtered)
        CHECK(e.at("tid") == child.pid());

    // Text through the raw tracepoints: the same zones, with -e's columns.
    std::vector<std::string> out = lines(t.out);
    REQUIRE(!out.empty());
    CHECK(std::regex_match(out[0], std::regex("TIME +UID +PID +COMM +NODE ZONE +ORDER MODE +"
                                              "LAT\\(ms\\) STATUS +FREE +MIN +LOW +HIGH")));
    std::vector<std::string> rows = lines_containing(t.out, comm);
    CHECK(rows.size() == zones.size());
    for (const std::string& row : rows) {
        INFO(row);
        std::vector<std::string> f = fields(row);
        REQUIRE(f.size() == 14);
        CHECK(std::regex_match(f[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]")));
        CHECK(f[1] == "0");
        CHECK(f[2] == pid);
        CHECK(zones.count(f[4] + " " + f[5]) == 1);
        CHECK(f[6] == "-1");
        CHECK(f[7] == "sync");
        CHECK(std::stod(f[8]) >= 0);
        CHECK(statuses.count(f[9]) == 1);
        CHECK(std::stoull(f[11]) <= std::stoull(f[12]));
    }
}

TEST_CASE("compactsnoop -d ends the trace by itself", "[compactsnoop]") {
    REQUIRE_BPF();
    double start = now_s();
    Finished f = run({tool_path("compactsnoop"), "-d", "0.5"});
    CHECK(f.exit_code == 0);
    CHECK(now_s() - start < 15);
    CHECK(lines(f.out).at(0).find("PID     COMM") == 0);
}

} // namespace test_compactsnoop
