// bitesize against O_DIRECT reads of known sizes that two children of the
// test make on a loop device of the test's own: every request on that disk
// is a child's (no other task uses it), and each read of 4, 16 or 64 KiB is
// one request of that size issued by the child itself (no scheduler holds
// it back: the loop device's queue is blk-mq without one), so the counts
// per bucket are exact.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <unistd.h>

namespace test_bitesize {

using namespace itest;
using nlohmann::json;

namespace {

// The counts of one JSON histogram by bucket low bound (KiB), empty ones left out.
std::map<uint64_t, uint64_t> buckets(const json& h) {
    std::map<uint64_t, uint64_t> out;
    for (const json& b : h.at("buckets"))
        if (b.at("count").get<uint64_t>()) out[b.at("low")] = b.at("count");
    return out;
}

// The JSON histograms of out whose comm is comm.
std::vector<json> histograms_of(const std::string& out, const std::string& comm) {
    std::vector<json> found;
    for (const json& h : json_lines(out))
        if (h.at("comm") == comm) found.push_back(h);
    return found;
}

// The rows "  16 -> 31  : 5  |***|" under the label line of comm in text.
std::map<uint64_t, uint64_t> text_buckets(const std::string& text, const std::string& label) {
    static const std::regex row(R"(^\s*(\d+) -> \d+\s+: (\d+)\s+\|\**\s*\|$)");
    std::map<uint64_t, uint64_t> out;
    bool in = false;
    for (const std::string& line : lines(text)) {
        std::smatch m;
        if (line == label)
            in = true;
        else if (in && std::regex_match(line, m, row)) {
            if (std::stoull(m[2])) out[std::stoull(m[1])] = std::stoull(m[2]);
        } else if (in && line.find(" : count") == std::string::npos)
            in = false;
    }
    return out;
}

// What the two children read: A 8 x 4 KiB, 5 x 16 KiB, 3 x 64 KiB; B 6 x 32 KiB.
const std::map<uint64_t, uint64_t> a_sizes = {{4, 8}, {16, 5}, {64, 3}};
const std::map<uint64_t, uint64_t> b_sizes = {{32, 6}};

} // namespace

TEST_CASE("bitesize counts each process's requests by size, exactly, and its filters keep "
          "what they name",
          "[bitesize]") {
    REQUIRE_BPF();
    LoopDisk loop(4 << 20);
    if (loop.path().empty()) SKIP_CASE("cannot set up a loop device (losetup)");
    ScratchFile file(1 << 20);
    REQUIRE(file.ok());
    std::string other_disk = disk_of(file.path());
    REQUIRE(!other_disk.empty());
    REQUIRE(other_disk != loop.name());
    std::string a_comm = unique_comm("bszA"), b_comm = unique_comm("bszB");
    GatedChild a(
        [&] {
            return direct_reads(loop.path(), 4096, 8) && direct_reads(loop.path(), 16384, 5) &&
                           direct_reads(loop.path(), 65536, 3)
                       ? 0
                       : 1;
        },
        a_comm.c_str());
    GatedChild b([&] { return direct_reads(loop.path(), 32768, 6) ? 0 : 1; }, b_comm.c_str());
    std::string disk = loop.name();
    TestCgroup cgroup(unique_token("bitesize"));
    if (cgroup.path.empty()) SKIP_CASE("no writable cgroup v2 mount");
    REQUIRE(cgroup.add(a.pid()));
    std::string b_pid = std::to_string(b.pid());
    std::vector<std::vector<std::string>> runs = {
        {"--disk", disk, "-o", "json"},                                  // 0: both children
        {"--disk", disk},                                                // 1: text
        {"--disk", disk, "-n", a_comm, "-o", "json"},                    // 2: -n A
        {"-P", "--disk", disk, "-o", "json"},                            // 3: per process
        {"-p", b_pid, "--btf", "/sys/kernel/btf/vmlinux", "-o", "json"}, // 4: -p B
        {"--disk", other_disk, "-o", "json"},                            // 5: another disk
        {"-P", "--disk", disk},                                          // 6: per process, text
        {"-t", b_pid, "-v", "-o", "json"},                               // 7: -t B
        {"-u", "65534", "--disk", disk, "-o", "json"},                   // 8: nobody's
        {"-u", "0", "--disk", disk, "-o", "json"},                       // 9: root's: both
        {"-c", cgroup.path, "--disk", disk, "-o", "json"},               // 10: A's cgroup
    };
    std::vector<std::unique_ptr<ToolProcess>> tools;
    for (const auto& args : runs) {
        std::vector<std::string> argv = {tool_path("bitesize")};
        argv.insert(argv.end(), args.begin(), args.end());
        tools.push_back(std::make_unique<ToolProcess>(argv));
    }
    for (auto& t : tools)
        REQUIRE(t->wait_attached());
    REQUIRE(a.run() == 0);
    REQUIRE(b.run() == 0);
    std::vector<Finished> r;
    for (auto& t : tools) {
        r.push_back(t->stop());
        CHECK(r.back().exit_code == 0);
    }

    {
        INFO("JSON: one histogram per name, the sizes exactly");
        std::vector<json> a_h = histograms_of(r[0].out, a_comm),
                          b_h = histograms_of(r[0].out, b_comm);
        REQUIRE(a_h.size() == 1);
        REQUIRE(b_h.size() == 1);
        CHECK(buckets(a_h[0]) == a_sizes);
        CHECK(a_h[0].at("total") == 16);
        CHECK(a_h[0].at("unit") == "Kbytes");
        CHECK(a_h[0].at("type") == "histogram");
        CHECK(!a_h[0].contains("pid"));
        CHECK(buckets(b_h[0]) == b_sizes);
        CHECK(b_h[0].at("total") == 6);
    }
    {
        INFO("text: the label lines and the rows");
        CHECK(text_buckets(r[1].out, "Process Name = " + a_comm) == a_sizes);
        CHECK(text_buckets(r[1].out, "Process Name = " + b_comm) == b_sizes);
        CHECK(r[1].out.find("     Kbytes              : count    distribution") !=
              std::string::npos);
    }
    {
        INFO("-n: A's histogram and no other");
        std::vector<json> all = json_lines(r[2].out);
        REQUIRE(all.size() == 1);
        CHECK(all[0].at("comm") == a_comm);
        CHECK(buckets(all[0]) == a_sizes);
    }
    {
        INFO("-P: keyed by the process too");
        std::vector<json> a_h = histograms_of(r[3].out, a_comm),
                          b_h = histograms_of(r[3].out, b_comm);
        REQUIRE(a_h.size() == 1);
        REQUIRE(b_h.size() == 1);
        CHECK(a_h[0].at("pid") == a.pid());
        CHECK(b_h[0].at("pid") == b.pid());
        CHECK(buckets(a_h[0]) == a_sizes);
        CHECK(text_buckets(r[6].out, "Process Name = " + a_comm +
                                         ", PID = " + std::to_string(a.pid())) == a_sizes);
    }
    {
        INFO("-p: B's histogram and no other");
        std::vector<json> all = json_lines(r[4].out);
        REQUIRE(all.size() == 1);
        CHECK(all[0].at("comm") == b_comm);
        CHECK(buckets(all[0]) == b_sizes);
    }
    {
        INFO("-t: B's histogram and no other; -v: the plan on stderr");
        std::vector<json> all = json_lines(r[7].out);
        REQUIRE(all.size() == 1);
        CHECK(all[0].at("comm") == b_comm);
        CHECK(buckets(all[0]) == b_sizes);
        CHECK(r[7].err.find("bitesize: attach plan") != std::string::npos);
    }
    {
        INFO("-u: root's children in the root run, none in nobody's");
        CHECK(json_lines(r[8].out).empty());
        REQUIRE(histograms_of(r[9].out, a_comm).size() == 1);
        REQUIRE(histograms_of(r[9].out, b_comm).size() == 1);
        CHECK(buckets(histograms_of(r[9].out, a_comm)[0]) == a_sizes);
    }
    {
        INFO("-c: A, which the test moved into the cgroup, and not B");
        std::vector<json> all = json_lines(r[10].out);
        REQUIRE(all.size() == 1);
        CHECK(all[0].at("comm") == a_comm);
        CHECK(buckets(all[0]) == a_sizes);
    }
    {
        INFO("--disk: another disk's run has none of the loop device's requests");
        CHECK(histograms_of(r[5].out, a_comm).empty());
        CHECK(histograms_of(r[5].out, b_comm).empty());
    }
}

TEST_CASE("bitesize -d stops after that long by itself", "[bitesize]") {
    REQUIRE_BPF();
    double started = now_s();
    Finished r = run({tool_path("bitesize"), "-d", "1", "-o", "json"}, 10);
    CHECK(r.exit_code == 0);
    CHECK(r.signal == 0);
    CHECK(now_s() - started < 8);
    for (const json& h : json_lines(r.out))
        CHECK(h.at("type") == "histogram");
}

TEST_CASE("bitesize 1 2 prints two summaries with -T and exits by itself", "[bitesize]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("bitesize"), "-T", "1", "2"}, 10);
    CHECK(r.exit_code == 0);
    CHECK(r.signal == 0);
    size_t times = 0;
    for (const std::string& line : lines(r.out))
        times += std::regex_match(line, std::regex(R"(^\d\d:\d\d:\d\d$)"));
    CHECK(times == 2);
}

TEST_CASE("bitesize --dry-run plans block_rq_issue; bad values exit 2 naming them", "[bitesize]") {
    REQUIRE_BPF();
    Finished plan = run({tool_path("bitesize"), "--dry-run"});
    CHECK(plan.exit_code == 0);
    CHECK(plan.out.find("block_rq_issue") != std::string::npos);
    Finished disk = run({tool_path("bitesize"), "--disk", "nosuchdisk"});
    CHECK(disk.exit_code == 2);
    CHECK(disk.err.find("'nosuchdisk'") != std::string::npos);
    Finished pid = run({tool_path("bitesize"), "-p", "abc"});
    CHECK(pid.exit_code == 2);
    CHECK(pid.err.find("'abc'") != std::string::npos);
}

} // namespace test_bitesize
