// drsnoop against children of this test that read a file through the page
// cache inside a memory cgroup limited to 32 MiB: each charge over the limit
// makes the reading child reclaim (memcg reclaim), a known PID and name.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace test_drsnoop {

using namespace itest;
using nlohmann::json;

namespace {

constexpr unsigned long long limit_bytes = 32ULL << 20;
constexpr size_t file_bytes = 64 << 20;

// A line of /proc/meminfo ("MemTotal", in KiB) or /proc/vmstat
// ("nr_free_pages", in pages); 0 where absent.
uint64_t proc_value(const std::string& file, const std::string& key) {
    std::ifstream in(file);
    std::string name;
    uint64_t value = 0;
    while (in >> name >> value) {
        in.ignore(64, '\n');
        if (name == key || name == key + ":") return value;
    }
    return 0;
}

} // namespace

TEST_CASE("drsnoop shows the memory cgroup reclaim of a process at its cgroup's limit",
          "[drsnoop]") {
    REQUIRE_BPF();
    MemoryLimitedCgroup cgroup(unique_token("t15-drsnoop"), limit_bytes);
    if (!cgroup.ok()) SKIP_CASE(cgroup.why());
    ColdFile file(file_bytes);
    REQUIRE(file.ok());
    struct stat cg {};
    REQUIRE(stat(cgroup.path().c_str(), &cg) == 0);

    // -c takes a cgroup v2 directory: the memory cgroup itself where memory
    // is on v2, else one of the test's own on the v2 hierarchy, which only A
    // joins.
    std::unique_ptr<TestCgroup> unified;
    std::string v2_path = cgroup.path();
    if (cgroup.limit_file().find("memory.max") == std::string::npos) {
        unified = std::make_unique<TestCgroup>(unique_token("t15-drsnoop-v2"));
        if (unified->path.empty()) SKIP_CASE("no cgroup v2 hierarchy for -c");
        v2_path = unified->path;
    }
    std::string btf = "/tmp/" + unique_token("t15-drsnoop-btf");
    REQUIRE(sh("cp /sys/kernel/btf/vmlinux " + btf));

    std::string comm_a = unique_comm("drsA-"), comm_b = unique_comm("drsB-");
    GatedChild a(
        [&] {
            if (unified && !unified->add(getpid())) return 4;
            return read_in_cgroup(cgroup, file.path());
        },
        comm_a.c_str());
    GatedChild b([&] { return read_in_cgroup(cgroup, file.path()); }, comm_b.c_str());
    // -p, and -t -u -c together, show A and not B; -n shows B and not A.
    ToolProcess jsonl({tool_path("drsnoop"), "-o", "json", "-p", std::to_string(a.pid())});
    ToolProcess filtered({tool_path("drsnoop"), "-o", "json", "-t", std::to_string(a.pid()), "-u",
                          "0", "-c", v2_path, "--btf", btf, "-v"});
    ToolProcess text({tool_path("drsnoop"), "-e", "-T", "-U", "-n", comm_b});
    REQUIRE(jsonl.wait_attached());
    REQUIRE(filtered.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(a.run() == 0);
    // B reads after A left the cgroup at its limit: it reclaims from the start.
    REQUIRE(b.run() == 0);
    // Each child's events were handed over before it exited; the tools
    // drain them all when stopped.
    REQUIRE(jsonl.wait_for_output("\"pid\":" + std::to_string(a.pid())));
    REQUIRE(filtered.wait_for_output("\"pid\":" + std::to_string(a.pid())));
    REQUIRE(text.wait_for_output(comm_b));
    // The kernel's free page count (some kernels' MemFree adds memory no
    // zone holds: virtio-mem on this host's).
    uint64_t free_pages_kb = proc_value("/proc/vmstat", "nr_free_pages") * (getpagesize() / 1024);
    uint64_t mem_total_kb = proc_value("/proc/meminfo", "MemTotal");
    Finished j = jsonl.stop();
    Finished by_ids = filtered.stop();
    Finished t = text.stop();
    unlink(btf.c_str());
    CHECK(j.exit_code == 0);
    CHECK(by_ids.exit_code == 0);
    CHECK(t.exit_code == 0);
    CHECK(by_ids.err.find("drsnoop: attach plan") != std::string::npos); // -v
    std::vector<json> by_filters = json_lines(by_ids.out);
    CHECK(!by_filters.empty());
    for (const json& e : by_filters) {
        CHECK(e.at("tid") == a.pid());
        CHECK(e.at("uid") == 0);
    }

    uint64_t pages = 0;
    std::vector<json> events = json_lines(j.out);
    REQUIRE(!events.empty());
    for (const json& e : events) {
        INFO(e.dump());
        REQUIRE(e.at("pid") == a.pid());
        CHECK(e.at("tid") == a.pid());
        CHECK(e.at("comm") == comm_a);
        CHECK(e.at("kind") == "memcg");
        CHECK(e.at("latency_ms").get<double>() > 0);
        pages += e.at("pages").get<uint64_t>();
        CHECK(e.at("order").get<int>() >= 0);
        CHECK(e.at("gfp_flags").get<uint64_t>() != 0);
        CHECK(e.at("cgroup") == cgroup.path());
        CHECK(e.at("cgroup_id") == cg.st_ino);
        // The host's free memory moves with everything else running here,
        // but by far less than a tenth of its memory within a second; a
        // free count of one zone, in pages rather than KiB, or of another
        // counter, is off by more.
        REQUIRE(e.at("free_kb").is_number());
        uint64_t free_kb = e.at("free_kb");
        CHECK(free_kb + mem_total_kb / 10 > free_pages_kb);
        CHECK(free_kb < free_pages_kb + mem_total_kb / 10);
    }
    // A read 64 MiB through a 32 MiB limit: at least 32 MiB had to be
    // reclaimed, by A itself. Half of it allows for what kswapd might take
    // from the cgroup under host pressure; a tool that lost most reclaims
    // or misread nr_reclaimed fails it.
    CHECK(pages >= (file_bytes - limit_bytes) / getpagesize() / 2);

    auto header = lines(t.out).at(0);
    CHECK(
        header.find("TIME     UID     PID     COMM             KIND     LAT(ms)   PAGES   FREE(KB) "
                    "ORDER GFP") == 0);
    CHECK(header.find("CGROUP") != std::string::npos);
    CHECK(t.out.find(comm_a) == std::string::npos);
    auto rows = lines_containing(t.out, comm_b);
    REQUIRE(!rows.empty());
    uint64_t text_pages = 0;
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        INFO(row);
        REQUIRE(f.size() == 11);
        CHECK(f[0].size() == 8); // HH:MM:SS
        CHECK(f[1] == "0");
        CHECK(f[2] == std::to_string(b.pid()));
        CHECK(f[3] == comm_b);
        CHECK(f[4] == "memcg");
        CHECK(std::stod(f[5]) >= 0); // in whole microseconds; JSON checks > 0
        text_pages += std::stoull(f[6]);
        CHECK(std::stoull(f[7]) > 0);
        CHECK(f[9].rfind("0x", 0) == 0);
        CHECK(f[10] == cgroup.path());
    }
    CHECK(text_pages > 0);
}

TEST_CASE("drsnoop -d ends the trace by itself", "[drsnoop]") {
    REQUIRE_BPF();
    double start = now_s();
    Finished f = run({tool_path("drsnoop"), "-d", "0.5"});
    CHECK(f.exit_code == 0);
    CHECK(now_s() - start < 15); // the load takes a moment; run() kills at 20 s
    CHECK(lines(f.out).at(0).find("PID     COMM") == 0);
}

} // namespace test_drsnoop
