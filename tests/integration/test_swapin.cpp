// swapin against a child of this test that swaps: the test turns on a swap
// file of its own (in /var/tmp, on disk), the child enters a memory cgroup
// limited to 16 MiB, writes 48 MiB of anonymous memory (no page all zeros:
// 6.12+ does not write those to swap, so reading them back makes no I/O),
// which pushes at least 32 MiB of it out to swap, then reads every page
// back. When it starts reading, at most 16 MiB of it is in memory (resident
// or in the swap cache, both charged to the cgroup), so at least 8192 of
// its 12288 pages must come back from swap, read by the child itself (the
// faulting thread submits the read and its readahead): the lower bound. The
// kernel's pswpin counts every page read from swap on the host: the upper.
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

namespace test_swapin {

using namespace itest;
using nlohmann::json;

namespace {

constexpr size_t limit_bytes = 16 << 20;
constexpr size_t touched_bytes = 48 << 20;

uint64_t vmstat(const std::string& key) {
    std::ifstream in("/proc/vmstat");
    std::string name;
    uint64_t value = 0;
    while (in >> name >> value)
        if (name == key) return value;
    return 0;
}

std::function<void()> skip_attach(const char* kinds) {
    return [kinds] { setenv("CORESCOPE_SKIP_ATTACH", kinds, 1); };
}

struct Totals {
    uint64_t count = 0, pages = 0;
};

Totals sum_for(const std::vector<json>& records, pid_t pid, const std::string& comm) {
    Totals t;
    for (const json& r : records) {
        INFO(r.dump());
        CHECK(r.at("pid") == pid);
        CHECK(r.at("comm") == comm);
        CHECK(r.at("time").get<std::string>().size() >= 20);
        t.count += r.at("count").get<uint64_t>();
        t.pages += r.at("pages").get<uint64_t>();
    }
    return t;
}

} // namespace

TEST_CASE("swapin counts the pages a process in a small memory cgroup reads back from swap",
          "[swapin]") {
    REQUIRE_BPF();
    MemoryLimitedCgroup cgroup(unique_token("t16-swapin"), limit_bytes);
    if (!cgroup.ok()) SKIP_CASE(cgroup.why());
    REQUIRE(allow_swap(cgroup));
    SwapFile swap(96 << 20);
    if (!swap.ok()) SKIP_CASE(swap.why());
    // -c takes a cgroup v2 directory: the memory cgroup itself where memory
    // is on v2, else one of the test's own on the v2 hierarchy.
    std::unique_ptr<TestCgroup> unified;
    std::string v2_path = cgroup.path();
    if (cgroup.limit_file().find("memory.max") == std::string::npos) {
        unified = std::make_unique<TestCgroup>(unique_token("t16-swapin-v2"));
        if (unified->path.empty()) SKIP_CASE("no cgroup v2 hierarchy for -c");
        v2_path = unified->path;
    }
    std::string btf = "/tmp/" + unique_token("t16-swapin-btf");
    REQUIRE(sh("cp /sys/kernel/btf/vmlinux " + btf));
    std::string comm = unique_comm("swpi-");
    GatedChild child(
        [&] {
            if (unified && !unified->add(getpid())) return 4;
            return swap_out_and_in(cgroup, touched_bytes);
        },
        comm.c_str());
    GatedChild other([] { return 0; });
    std::string pid = std::to_string(child.pid());
    ToolProcess jsonl({tool_path("swapin"), "-o", "json", "-p", pid});
    ToolProcess raw({tool_path("swapin"), "-o", "json", "-t", pid, "-u", "0", "-c", v2_path, "-v",
                     "--btf", btf},
                    ToolProcess::Stdout::pipe, skip_attach("fentry,kprobe,tp_btf"));
    // Text: one interval of a minute, printed when stopped.
    ToolProcess text({tool_path("swapin"), "-T", "-n", comm, "60"});
    ToolProcess not_it({tool_path("swapin"), "-o", "json", "-p", std::to_string(other.pid())});
    REQUIRE(jsonl.wait_attached());
    REQUIRE(raw.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(not_it.wait_attached());
    uint64_t pswpin_before = vmstat("pswpin");
    REQUIRE(child.run() == 0);
    uint64_t pswpin = vmstat("pswpin") - pswpin_before;
    REQUIRE(other.run() == 0);
    Finished j = jsonl.stop();
    Finished r = raw.stop();
    Finished t = text.stop();
    Finished o = not_it.stop();
    unlink(btf.c_str());
    CHECK(r.err.find("swapin: attach plan") != std::string::npos); // -v
    CHECK(r.err.find("raw_tp:block_bio_queue") != std::string::npos);
    CHECK(j.exit_code == 0);
    CHECK(r.exit_code == 0);
    CHECK(t.exit_code == 0);
    CHECK(o.exit_code == 0);
    CHECK(o.out.empty());

    uint64_t pages_out = (touched_bytes - limit_bytes) / getpagesize();
    for (const Finished* f : {&j, &r}) {
        INFO((f == &j ? "tp_btf" : "raw_tp") << ": " << f->out);
        Totals s = sum_for(json_lines(f->out), child.pid(), comm);
        // A tool that missed the readahead's reads, or counted another
        // process's, or swap-outs (writes), leaves one of these bounds.
        CHECK(s.pages >= pages_out);
        CHECK(s.pages <= pswpin);
        CHECK(s.count >= 1);
        CHECK(s.count <= s.pages);
    }

    std::vector<std::string> out = lines(t.out);
    REQUIRE(out.size() == 2); // the header and the child's row
    CHECK(std::regex_match(out[0], std::regex("TIME +COMM +PID +COUNT +PAGES")));
    std::vector<std::string> f = fields(out[1]);
    REQUIRE(f.size() == 5);
    CHECK(std::regex_match(f[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]")));
    CHECK(f[1] == comm);
    CHECK(f[2] == pid);
    CHECK(std::stoull(f[4]) >= pages_out);
    CHECK(std::stoull(f[4]) <= pswpin);
}

TEST_CASE("swapin -d ends the count by itself with a header and nothing else when nothing "
          "swaps",
          "[swapin]") {
    REQUIRE_BPF();
    // No process of this name exists: nothing to print but the header.
    Finished f = run({tool_path("swapin"), "-n", unique_comm("none-"), "-d", "1.5"});
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() == 1);
    CHECK(std::regex_match(out[0], std::regex("COMM +PID +COUNT +PAGES")));
}

} // namespace test_swapin
