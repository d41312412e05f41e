// biopattern against O_DIRECT reads that a child of the test makes on a loop
// device of the test's own, where no other task makes requests: each read
// is one request, completed before the next is submitted, so the pattern is
// the one the test chose. A sequential run of 16 reads of 64 KiB from
// offset 0 is 15 sequential requests after a first one with no predecessor
// (random); a random run of 10 reads of 4 KiB, each below the previous one,
// is 10 random requests. Counts and bytes are exact: a tool that compared
// the sector with the wrong end (the start, or the end in bytes), lost the
// position between requests, or counted other disks would miss them.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <unistd.h>

namespace test_biopattern {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int seq_reads = 16, rnd_reads = 10;
constexpr size_t seq_size = 65536, rnd_size = 4096;

// O_DIRECT reads of size bytes from path at each offset, in order.
bool direct_reads_at(const std::string& path, size_t size, const std::vector<off_t>& offsets) {
    int fd = open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) return false;
    void* buffer = nullptr;
    bool ok = posix_memalign(&buffer, 4096, size) == 0;
    for (size_t i = 0; ok && i < offsets.size(); i++)
        ok = pread(fd, buffer, size, offsets[i]) == static_cast<ssize_t>(size);
    free(buffer);
    close(fd);
    return ok;
}

std::vector<off_t> sequential_offsets() {
    std::vector<off_t> out;
    for (int i = 0; i < seq_reads; i++)
        out.push_back(static_cast<off_t>(i * seq_size));
    return out;
}

// Downwards with gaps: no read starts where the one before ended.
std::vector<off_t> random_offsets() {
    std::vector<off_t> out;
    for (int i = 0; i < rnd_reads; i++)
        out.push_back(static_cast<off_t>((100 - 3 * i) * rnd_size));
    return out;
}

// The entry of disk in the one JSON table of out; null if none.
json entry_of(const std::string& out, const std::string& disk) {
    std::vector<json> tables = json_lines(out);
    REQUIRE(tables.size() == 1);
    for (const json& e : tables[0].at("entries"))
        if (e.at("disk") == disk) return e;
    return nullptr;
}

// The text row of disk: DISK %RND %SEQ COUNT KBYTES.
std::vector<std::string> row_of(const std::string& out, const std::string& disk) {
    for (const std::string& line : lines(out)) {
        std::vector<std::string> f = fields(line);
        if (!f.empty() && f[0] == disk) return f;
    }
    return {};
}

struct Phase {
    Finished json_run, text_run, other_disk_run;
};

// Runs three biopatterns (JSON and text on the loop device, JSON on another
// disk) around one child's reads.
Phase trace(const LoopDisk& loop, const std::string& other_disk, size_t size,
            const std::vector<off_t>& offsets) {
    GatedChild reader([&] { return direct_reads_at(loop.path(), size, offsets) ? 0 : 1; });
    ToolProcess j({tool_path("biopattern"), "--disk", loop.name(), "-o", "json"});
    ToolProcess t({tool_path("biopattern"), "--disk", loop.name()});
    ToolProcess o({tool_path("biopattern"), "--disk", other_disk, "-o", "json"});
    REQUIRE(j.wait_attached());
    REQUIRE(t.wait_attached());
    REQUIRE(o.wait_attached());
    REQUIRE(reader.run() == 0);
    return {j.stop(), t.stop(), o.stop()};
}

} // namespace

TEST_CASE("biopattern counts a sequential run and a random run exactly, on that disk only",
          "[biopattern]") {
    REQUIRE_BPF();
    LoopDisk loop(4 << 20);
    if (loop.path().empty()) SKIP_CASE("cannot set up a loop device (losetup)");
    ScratchFile file(1 << 20);
    REQUIRE(file.ok());
    std::string other_disk = disk_of(file.path());
    REQUIRE(!other_disk.empty());
    REQUIRE(other_disk != loop.name());

    Phase seq = trace(loop, other_disk, seq_size, sequential_offsets());
    Phase rnd = trace(loop, other_disk, rnd_size, random_offsets());
    for (const Finished* f : {&seq.json_run, &seq.text_run, &seq.other_disk_run, &rnd.json_run,
                              &rnd.text_run, &rnd.other_disk_run})
        CHECK(f->exit_code == 0);

    json s = entry_of(seq.json_run.out, loop.name());
    REQUIRE(!s.is_null());
    CHECK(s.at("sequential") == seq_reads - 1);
    CHECK(s.at("random") == 1);
    CHECK(s.at("count") == seq_reads);
    CHECK(s.at("bytes") == seq_reads * seq_size);
    CHECK(s.at("kbytes") == seq_reads * seq_size / 1024);
    CHECK(s.at("sequential_pct") == (seq_reads - 1) * 100 / seq_reads);
    CHECK(s.at("random_pct") == 100 / seq_reads);
    CHECK(s.at("major").is_number());
    CHECK(s.at("minor").is_number());

    json r = entry_of(rnd.json_run.out, loop.name());
    REQUIRE(!r.is_null());
    CHECK(r.at("sequential") == 0);
    CHECK(r.at("random") == rnd_reads);
    CHECK(r.at("count") == rnd_reads);
    CHECK(r.at("bytes") == rnd_reads * rnd_size);
    CHECK(r.at("random_pct") == 100);
    CHECK(r.at("sequential_pct") == 0);

    // Text: the classic columns.
    CHECK(lines(seq.text_run.out).size() >= 2);
    CHECK(std::regex_search(seq.text_run.out, std::regex(R"(DISK +%RND +%SEQ +COUNT +KBYTES)")));
    CHECK(row_of(seq.text_run.out, loop.name()) ==
          std::vector<std::string>{loop.name(), std::to_string(100 / seq_reads),
                                   std::to_string((seq_reads - 1) * 100 / seq_reads),
                                   std::to_string(seq_reads),
                                   std::to_string(seq_reads * seq_size / 1024)});
    CHECK(row_of(rnd.text_run.out, loop.name()) ==
          std::vector<std::string>{loop.name(), "100", "0", std::to_string(rnd_reads),
                                   std::to_string(rnd_reads * rnd_size / 1024)});

    // --disk: the other disk's runs never name the loop device.
    for (const Finished* f : {&seq.other_disk_run, &rnd.other_disk_run})
        for (const json& t : json_lines(f->out))
            for (const json& e : t.at("entries"))
                CHECK(e.at("disk") == other_disk);
}

TEST_CASE("biopattern 1 2 prints two tables with -T and exits by itself", "[biopattern]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("biopattern"), "-T", "1", "2"}, 10);
    CHECK(r.exit_code == 0);
    CHECK(r.signal == 0);
    size_t times = 0, headers = 0;
    for (const std::string& line : lines(r.out)) {
        times += std::regex_match(line, std::regex(R"(^\[?\d\d:\d\d:\d\d\]?$)"));
        headers += line.find("%RND") != std::string::npos;
    }
    CHECK(times == 2);
    CHECK(headers == 2);
}

TEST_CASE("biopattern -d stops after that long by itself; -v shows the plan", "[biopattern]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("biopattern"), "-d", "1", "-v", "--btf", "/sys/kernel/btf/vmlinux",
                      "-o", "json"},
                     10);
    CHECK(r.exit_code == 0);
    CHECK(r.signal == 0);
    std::vector<json> tables = json_lines(r.out);
    REQUIRE(tables.size() == 1);
    CHECK(tables[0].at("entries").is_array());
    CHECK(r.err.find("biopattern: attach plan") != std::string::npos);
}

TEST_CASE("biopattern --dry-run plans block_rq_complete; bad values exit 2 naming them",
          "[biopattern]") {
    REQUIRE_BPF();
    Finished plan = run({tool_path("biopattern"), "--dry-run"});
    CHECK(plan.exit_code == 0);
    CHECK(plan.out.find("block_rq_complete") != std::string::npos);
    Finished disk = run({tool_path("biopattern"), "--disk", "nosuchdisk"});
    CHECK(disk.exit_code == 2);
    CHECK(disk.err.find("'nosuchdisk'") != std::string::npos);
    Finished pid = run({tool_path("biopattern"), "-p", "1"});
    CHECK(pid.exit_code == 2);
    CHECK(pid.err.find("'-p'") != std::string::npos);
}

} // namespace test_biopattern
