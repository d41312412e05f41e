// numamove against a compaction this test asks for: a child of its own
// writes 1 to /proc/sys/vm/compact_memory, which compacts every zone in the
// child's own context, migrating pages for reason MR_COMPACTION. This host
// has one NUMA node, where NUMA balancing never migrates, and move_pages(2)
// or migrate_pages(2) to the node a page is already on return without
// migrating, so compaction is the migration a test can make here: -a
// counts it, the default (NUMA balancing only) must not.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <unistd.h>
#include <vector>

namespace test_numamove {

using namespace itest;
using nlohmann::json;

namespace {

const char* const compact_memory = "/proc/sys/vm/compact_memory";

uint64_t vmstat(const std::string& key) {
    std::ifstream in("/proc/vmstat");
    std::string name;
    uint64_t value = 0;
    while (in >> name >> value)
        if (name == key) return value;
    return 0;
}

struct Totals {
    uint64_t migrations = 0, pages = 0, failed = 0;
    double ms = 0;
    size_t records = 0;
};

Totals sum_records(const std::string& out) {
    Totals t;
    for (const json& r : json_lines(out)) {
        INFO(r.dump());
        CHECK(r.at("interval_s").get<double>() > 0);
        CHECK(r.at("time").get<std::string>().size() >= 20);
        t.migrations += r.at("migrations").get<uint64_t>();
        t.pages += r.at("pages").get<uint64_t>();
        t.failed += r.at("failed").get<uint64_t>();
        t.ms += r.at("ms").get<double>();
        t.records++;
    }
    return t;
}

std::function<void()> skip_attach(const char* kinds) {
    return [kinds] { setenv("CORESCOPE_SKIP_ATTACH", kinds, 1); };
}

int numa_nodes() {
    int n = 0;
    for (int i = 0; i < 1024; i++)
        if (access(("/sys/devices/system/node/node" + std::to_string(i)).c_str(), F_OK) == 0) n++;
    return n;
}

} // namespace

TEST_CASE("numamove -a counts the migrations of the test's compaction, on every tier; the "
          "default counts NUMA balancing's only",
          "[numamove]") {
    REQUIRE_BPF();
    if (access(compact_memory, W_OK) != 0) SKIP_CASE("no /proc/sys/vm/compact_memory");
    TestCgroup cgroup(unique_token("t16-numamove"));
    if (cgroup.path.empty()) SKIP_CASE("no cgroup v2 hierarchy for -c");
    std::string btf = "/tmp/" + unique_token("t16-numamove-btf");
    REQUIRE(sh("cp /sys/kernel/btf/vmlinux " + btf));
    std::string comm = unique_comm("nmv-");
    GatedChild child(
        [&] {
            if (!cgroup.add(getpid())) return 4;
            return write_text(compact_memory, "1") ? 0 : 3;
        },
        comm.c_str());
    GatedChild other([] { return 0; });
    std::string pid = std::to_string(child.pid());
    std::vector<std::unique_ptr<ToolProcess>> tiers;
    tiers.push_back(std::make_unique<ToolProcess>(
        std::vector<std::string>{tool_path("numamove"), "-a", "-o", "json", "-p", pid}));
    tiers.push_back(std::make_unique<ToolProcess>(
        std::vector<std::string>{tool_path("numamove"), "--all", "-o", "json", "-t", pid, "-u", "0",
                                 "-c", cgroup.path, "-v", "--btf", btf},
        ToolProcess::Stdout::pipe, skip_attach("tp_btf")));
    // Text, through tracefs, by name, one interval of a minute: printed when stopped.
    ToolProcess text({tool_path("numamove"), "-a", "-T", "-n", comm, "60"},
                     ToolProcess::Stdout::pipe, skip_attach("tp_btf,raw_tp"));
    ToolProcess numa({tool_path("numamove"), "-o", "json", "-p", pid});
    ToolProcess not_it(
        {tool_path("numamove"), "-a", "-o", "json", "-p", std::to_string(other.pid())});
    for (auto& t : tiers)
        REQUIRE(t->wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(numa.wait_attached());
    REQUIRE(not_it.wait_attached());
    uint64_t success_before = vmstat("pgmigrate_success");
    uint64_t fail_before = vmstat("pgmigrate_fail");
    double started = now_s();
    REQUIRE(child.run() == 0);
    double wall_ms = (now_s() - started) * 1000;
    uint64_t success = vmstat("pgmigrate_success") - success_before;
    uint64_t fail = vmstat("pgmigrate_fail") - fail_before;
    REQUIRE(other.run() == 0);

    for (size_t i = 0; i < tiers.size(); i++) {
        INFO("tier " << i << " (0: tp_btf, 1: raw_tp)");
        Finished f = tiers[i]->stop();
        CHECK(f.exit_code == 0);
        if (i == 1) CHECK(f.err.find("numamove: attach plan") != std::string::npos); // -v
        Totals t = sum_records(f.out);
        CHECK(t.records >= 1);
        // Compacting every zone of a host that has run for a while moves
        // pages (the kernel's own counters bound it from above: they count
        // kcompactd's and everyone's migrations too); a tool that counted
        // another task's, or pages in the wrong unit, overshoots them.
        CHECK(t.migrations > 0);
        CHECK(t.pages > 0);
        CHECK(t.pages <= success);
        CHECK(t.failed <= fail);
        CHECK(t.pages + t.failed >= t.migrations); // each call moves or fails a page at least
        // The child's migrations ran one after another inside its write: their
        // sum is above zero and below the write's wall time (microseconds or
        // nanoseconds taken as milliseconds are far above it).
        CHECK(t.ms > 0);
        CHECK(t.ms < wall_ms);
    }

    Finished n = numa.stop();
    CHECK(n.exit_code == 0);
    Totals numa_only = sum_records(n.out);
    CHECK(numa_only.records >= 1);
    // The child's compaction is not NUMA balancing; with one node nothing is.
    if (numa_nodes() == 1) CHECK(numa_only.migrations == 0);
    CHECK(numa_only.pages <= success);

    Finished o = not_it.stop();
    CHECK(o.exit_code == 0);
    Totals other_totals = sum_records(o.out);
    CHECK(other_totals.records >= 1);
    CHECK(other_totals.migrations == 0);
    CHECK(other_totals.pages == 0);

    Finished t = text.stop();
    unlink(btf.c_str());
    CHECK(t.exit_code == 0);
    std::vector<std::string> out = lines(t.out);
    REQUIRE(out.size() == 2); // the header and the interval cut short
    CHECK(std::regex_match(out[0], std::regex("TIME +MIGRATIONS +MIGRATIONS_ms +PAGES +FAILED")));
    std::vector<std::string> f = fields(out[1]);
    REQUIRE(f.size() == 5);
    CHECK(std::regex_match(f[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]")));
    CHECK(std::stoull(f[1]) > 0);
    CHECK(std::stoull(f[3]) > 0);
    CHECK(std::stoull(f[3]) <= success);
}

TEST_CASE("numamove prints bcc's columns every interval and stops after count", "[numamove]") {
    REQUIRE_BPF();
    Finished f = run({tool_path("numamove"), "1", "2"}, 30);
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() == 3); // the header and two intervals
    CHECK(std::regex_match(out[0],
                           std::regex(" *NUMA_migrations +NUMA_migrations_ms +PAGES +FAILED")));
    for (size_t i = 1; i < out.size(); i++)
        CHECK(std::regex_match(out[i], std::regex(" *[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+")));
}

TEST_CASE("numamove -d ends with the partial interval", "[numamove]") {
    REQUIRE_BPF();
    Finished f = run({tool_path("numamove"), "-d", "1.5", "-o", "json"}, 30);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2); // after a second, and the rest of -d's 1.5 s
    CHECK(records[1].at("interval_s").get<double>() < 0.95);
}

} // namespace test_numamove
