// rwsize against reads and writes a child of this test makes in known sizes
// and numbers, on /dev/zero and /dev/null (no file system, no page cache):
// with -p on the child the rest of the host is filtered out in the kernel,
// so every count, byte sum and histogram bucket must be exact.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

namespace test_rwsize {

using namespace itest;
using nlohmann::json;

namespace {

const char* child_name = "rwsize-child";
const char* other_name = "rwsize-other";

// What the child moves. The read that waits for go() returns 1 byte after
// the tools attached: one read more, in the first bucket.
constexpr uint64_t reads = 37 + 3 + 1;
constexpr uint64_t read_bytes = 37 * 4096 + 3 * 500 + 1;
constexpr uint64_t writes = 11 + 5;
constexpr uint64_t write_bytes = 11 * 100 + 5 * 2000;
constexpr uint64_t read_errors = 4, write_errors = 2;
// Bucket low bound -> count, every other bucket empty.
const std::map<uint64_t, uint64_t> read_buckets = {{0, 1}, {256, 3}, {4096, 37}};
const std::map<uint64_t, uint64_t> write_buckets = {{64, 11}, {1024, 5}};

// Runs in the child, through the system calls themselves (glibc may route
// others): reads and writes of known sizes, failures, and a read of end of
// file, which is not counted.
int reads_and_writes() {
    static char buffer[4096];
    int zero = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDONLY));
    int null = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR));
    for (int i = 0; i < 37; i++)
        if (syscall(SYS_read, zero, buffer, 4096) != 4096) return 1;
    for (int i = 0; i < 11; i++)
        if (syscall(SYS_write, null, buffer, 100) != 100) return 2;
    iovec in[2] = {{buffer, 300}, {buffer + 300, 200}};
    for (int i = 0; i < 3; i++)
        if (syscall(SYS_readv, zero, in, 2) != 500) return 3;
    iovec out[2] = {{buffer, 1000}, {buffer + 1000, 1000}};
    for (int i = 0; i < 5; i++)
        if (syscall(SYS_writev, null, out, 2) != 2000) return 4;
    for (int i = 0; i < 4; i++)
        syscall(SYS_read, -1, buffer, 10); // EBADF
    for (int i = 0; i < 2; i++)
        syscall(SYS_write, zero, buffer, 10);               // EBADF: opened read-only
    if (syscall(SYS_read, null, buffer, 10) != 0) return 5; // end of file
    return 0;
}

// Another process's writes, for the filters' other side.
int other_writes() {
    static char buffer[64];
    int null = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY));
    for (int i = 0; i < 7; i++)
        syscall(SYS_write, null, buffer, sizeof buffer);
    return 0;
}

std::map<uint64_t, uint64_t> nonzero_buckets(const json& histogram) {
    std::map<uint64_t, uint64_t> out;
    for (const json& b : histogram.at("buckets"))
        if (b.at("count") != 0) out[b.at("low")] = b.at("count");
    return out;
}

void check_child_entry(const json& e, pid_t pid) {
    INFO(e.dump());
    CHECK(e.at("pid") == pid);
    CHECK(e.at("comm") == child_name);
    CHECK(e.at("reads") == reads);
    CHECK(e.at("read_bytes") == read_bytes);
    CHECK(e.at("read_errors") == read_errors);
    CHECK(e.at("writes") == writes);
    CHECK(e.at("write_bytes") == write_bytes);
    CHECK(e.at("write_errors") == write_errors);
    CHECK(e.at("read_sizes").at("unit") == "bytes");
    CHECK(e.at("read_sizes").at("total") == reads);
    CHECK(nonzero_buckets(e.at("read_sizes")) == read_buckets);
    CHECK(e.at("write_sizes").at("total") == writes);
    CHECK(nonzero_buckets(e.at("write_sizes")) == write_buckets);
}

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("rwsize"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

} // namespace

TEST_CASE("rwsize counts the child's reads and writes, bytes and sizes exactly, on every tier",
          "[rwsize]") {
    REQUIRE_BPF();
    GatedChild child(reads_and_writes, child_name);
    GatedChild other(other_writes, other_name);
    std::string pid = std::to_string(child.pid());
    std::vector<std::unique_ptr<ToolProcess>> tiers;
    for (const char* skip : {"", "tp_btf", "tp_btf,raw_tp"})
        tiers.push_back(start({"-p", pid, "-o", "json"}, skip));
    auto text = start({"-p", pid, "-H", "-T"});
    auto everyone = start({"--top", "0", "-o", "json"});
    for (auto* t : {tiers[0].get(), tiers[1].get(), tiers[2].get(), text.get(), everyone.get()})
        REQUIRE(t->wait_attached());
    REQUIRE(other.run() == 0);
    REQUIRE(child.run() == 0);

    for (size_t i = 0; i < tiers.size(); i++) {
        INFO("tier " << i << " (0: tp_btf, 1: raw_tp, 2: tracefs)");
        Finished f = tiers[i]->stop();
        CHECK(f.exit_code == 0);
        std::vector<json> records = json_lines(f.out);
        REQUIRE(records.size() == 1);
        const json& r = records[0];
        CHECK(r.at("read_bytes") == read_bytes);
        CHECK(r.at("write_bytes") == write_bytes);
        CHECK(r.at("total") == reads + writes);
        CHECK(r.at("processes") == 1); // not the other child
        REQUIRE(r.at("entries").size() == 1);
        check_child_entry(r.at("entries")[0], child.pid());
    }

    // Without -p: both children, each with its own counts, the child
    // (more bytes) before the other; the tool's own reads are left out.
    Finished f = everyone->stop();
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    std::map<pid_t, size_t> position;
    const json& entries = records[0].at("entries");
    for (size_t i = 0; i < entries.size(); i++)
        position[entries[i].at("pid").get<pid_t>()] = i;
    CHECK(records[0].at("processes") == entries.size());
    CHECK_FALSE(position.count(everyone->pid()));
    REQUIRE(position.count(child.pid()));
    REQUIRE(position.count(other.pid()));
    CHECK(position[child.pid()] < position[other.pid()]);
    check_child_entry(entries[position[child.pid()]], child.pid());
    const json& o = entries[position[other.pid()]];
    CHECK(o.at("comm") == other_name);
    CHECK(o.at("reads") == 1); // its gate
    CHECK(o.at("writes") == 7);
    CHECK(o.at("write_bytes") == 7 * 64);
    CHECK(nonzero_buckets(o.at("write_sizes")) == std::map<uint64_t, uint64_t>{{64, 7}});
    // Sorted by bytes, most first.
    for (size_t i = 1; i < entries.size(); i++)
        CHECK(entries[i - 1].at("read_bytes").get<uint64_t>() +
                  entries[i - 1].at("write_bytes").get<uint64_t>() >=
              entries[i].at("read_bytes").get<uint64_t>() +
                  entries[i].at("write_bytes").get<uint64_t>());

    f = text->stop();
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    INFO(f.out);
    REQUIRE(out.size() >= 3);
    CHECK(std::regex_match(out[0], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    CHECK(
        std::regex_match(out[1], std::regex("PID +COMM +READS +READ_BYTES +WRITES +WRITE_BYTES")));
    CHECK(std::regex_match(
        out[2], std::regex(pid + " +" + child_name + " +" + std::to_string(reads) + " +" +
                           std::to_string(read_bytes) + " +" + std::to_string(writes) + " +" +
                           std::to_string(write_bytes))));
    // Then the histograms: each label, and the non-empty buckets' counts.
    std::vector<std::string> rest(out.begin() + 3, out.end());
    auto label_at = [&](const std::string& what) {
        auto it = std::find(rest.begin(), rest.end(),
                            "pid = " + pid + " " + child_name + " " + what + " sizes");
        return it == rest.end() ? -1 : static_cast<int>(it - rest.begin());
    };
    int read_label = label_at("read"), write_label = label_at("write");
    REQUIRE(read_label >= 0);
    REQUIRE(write_label > read_label);
    auto bars = [&](int from, int to) {
        std::map<uint64_t, uint64_t> counts;
        std::regex bar(" *([0-9]+) -> [0-9]+ +: ([0-9]+) +\\|.*");
        for (int i = from; i < to; i++) {
            std::smatch m;
            if (std::regex_match(rest[i], m, bar) && std::stoull(m[2]) != 0)
                counts[std::stoull(m[1])] = std::stoull(m[2]);
        }
        return counts;
    };
    CHECK(bars(read_label, write_label) == read_buckets);
    CHECK(bars(write_label, static_cast<int>(rest.size())) == write_buckets);
}

TEST_CASE("rwsize prints a summary per interval and stops after count", "[rwsize]") {
    REQUIRE_BPF();
    double started = now_s();
    Finished f = run({tool_path("rwsize"), "-o", "json", "1", "2"}, 30);
    double wall = now_s() - started;
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records) {
        uint64_t read_sum = 0;
        for (const json& e : r.at("entries"))
            read_sum += e.at("read_bytes").get<uint64_t>();
        // The top 10 hold at most what every process read.
        CHECK(read_sum <= r.at("read_bytes").get<uint64_t>());
        CHECK(r.at("entries").size() <= 10);
    }
}

} // namespace test_rwsize
