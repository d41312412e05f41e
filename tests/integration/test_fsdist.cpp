// fsdist (and its ext4dist name) against file calls of children this test
// starts: known counts of opens, reads, writes and fsyncs on an ext4 image
// the test mounts through a loop device, and more on a tmpfs of its own,
// which the ext4 filter must leave out.
#include "harness.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/mount.h>
#include <unistd.h>
#include <vector>

namespace test_fsdist {

using namespace itest;
using nlohmann::json;

namespace {

// A file system of the test's own, mounted in a scratch directory: ext4 on
// a loop device, or a tmpfs. ok() is false, with why(), where that fails.
class ScratchMount {
  public:
    explicit ScratchMount(const std::string& type) {
        char dir[] = "/tmp/cs-fsdist-XXXXXX";
        if (!mkdtemp(dir)) {
            why_ = "mkdtemp failed";
            return;
        }
        dir_ = dir;
        std::string source = "tmpfs";
        if (type == "ext4") {
            disk_ = std::make_unique<LoopDisk>(32 << 20);
            if (disk_->path().empty()) {
                why_ = "losetup failed";
                return;
            }
            if (run({"/sbin/mkfs.ext4", "-q", "-F", disk_->path()}, 60).exit_code != 0) {
                why_ = "mkfs.ext4 failed (e2fsprogs)";
                return;
            }
            source = disk_->path();
        }
        if (mount(source.c_str(), dir_.c_str(), type.c_str(), 0, nullptr) != 0) {
            why_ = "cannot mount " + type + ": " + std::to_string(errno);
            return;
        }
        mounted_ = true;
    }
    ~ScratchMount() {
        if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
        if (!dir_.empty()) rmdir(dir_.c_str());
    }
    ScratchMount(const ScratchMount&) = delete;
    ScratchMount& operator=(const ScratchMount&) = delete;
    bool ok() const { return mounted_; }
    const std::string& why() const { return why_; }
    const std::string& dir() const { return dir_; }

  private:
    std::unique_ptr<LoopDisk> disk_;
    std::string dir_;
    std::string why_;
    bool mounted_ = false;
};

struct Counts {
    int opens = 0, writes = 0, reads = 0, fsyncs = 0;
};

// In a child (system calls only, no C++ library I/O): in dir, opens
// counts.opens files (the first one opens + 1 times, created), writes
// counts.writes blocks of 64 KiB, fsyncs (fsync, then fdatasync) after
// writes so that each has data to flush, and preads counts.reads blocks of
// 4 KiB; also one failed open (ENOENT), which has no file to count. 0 when
// every call did what it should.
int file_calls(const std::string& dir, Counts counts) {
    static char block[64 << 10];
    std::string path = dir + "/data";
    int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0) return 1;
    int syncs = 0;
    for (int i = 0; i < counts.writes; i++) {
        if (write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) return 2;
        if (syncs < counts.fsyncs && i >= counts.writes - counts.fsyncs) {
            if ((syncs == 0 ? fsync(fd) : fdatasync(fd)) != 0) return 3;
            syncs++;
        }
    }
    for (int i = 0; i < counts.reads; i++)
        if (pread(fd, block, 4096, static_cast<off_t>(i) * 4096) != 4096) return 4;
    close(fd);
    for (int i = 1; i < counts.opens; i++) {
        int again = open(path.c_str(), O_RDONLY);
        if (again < 0) return 5;
        close(again);
    }
    if (open((dir + "/missing").c_str(), O_RDONLY) >= 0) return 6;
    return syncs == counts.fsyncs ? 0 : 7;
}

// The text histograms: each "operation = NAME" label and the counts of its
// bars, summed.
std::map<std::string, uint64_t> text_totals(const std::string& out) {
    std::map<std::string, uint64_t> totals;
    std::string op;
    for (const std::string& line : lines(out)) {
        if (line.rfind("operation = ", 0) == 0) {
            op = line.substr(12);
            totals[op] += 0;
        } else if (!op.empty() && line.find("->") != std::string::npos) {
            std::string after = line.substr(line.find(':') + 1);
            totals[op] += std::stoull(after);
        }
    }
    return totals;
}

// The JSON records of each operation.
std::map<std::string, json> json_records(const std::string& out) {
    std::map<std::string, json> records;
    for (const std::string& line : lines(out)) {
        json j = json::parse(line); // throws if invalid
        if (j.value("type", "") != "histogram") continue;
        std::string op = j.at("operation");
        CHECK(records.count(op) == 0); // one interval: one record each
        records[op] = j;
    }
    return records;
}

void check_json(const std::string& out, const Counts& want, const std::string& unit) {
    std::map<std::string, json> records = json_records(out);
    REQUIRE(records.size() == 4);
    CHECK(records.at("open").at("total") == want.opens);
    CHECK(records.at("write").at("total") == want.writes);
    CHECK(records.at("read").at("total") == want.reads);
    CHECK(records.at("fsync").at("total") == want.fsyncs);
    for (const auto& [op, r] : records) {
        INFO(op);
        CHECK(r.at("unit") == unit);
        CHECK(r.at("fs_type") == "ext4");
    }
}

void check_text(const std::string& out, const Counts& want) {
    std::map<std::string, uint64_t> totals = text_totals(out);
    CHECK(totals["open"] == static_cast<uint64_t>(want.opens));
    CHECK(totals["write"] == static_cast<uint64_t>(want.writes));
    CHECK(totals["read"] == static_cast<uint64_t>(want.reads));
    CHECK(totals["fsync"] == static_cast<uint64_t>(want.fsyncs));
}

} // namespace

TEST_CASE("ext4dist counts each operation of the watched process on ext4 exactly, in text and "
          "JSON, on both tiers",
          "[fsdist]") {
    REQUIRE_BPF();
    ScratchMount ext4("ext4");
    if (!ext4.ok()) SKIP_CASE("needs an ext4 image on a loop device: " + ext4.why());
    ScratchMount tmpfs("tmpfs");
    REQUIRE(tmpfs.ok());

    const Counts mine{3, 5, 7, 2};
    const Counts other{1, 2, 3, 1};
    const std::string ext4_dir = ext4.dir(), tmpfs_dir = tmpfs.dir();
    // The same calls on tmpfs too, which no ext4 histogram may count.
    GatedChild child([&] {
        int r = file_calls(ext4_dir, mine);
        return r ? r : file_calls(tmpfs_dir, {2, 4, 4, 1});
    });
    GatedChild second([&] { return file_calls(ext4_dir, other); });
    std::string pid = std::to_string(child.pid());
    std::string second_pid = std::to_string(second.pid());

    ToolProcess text({tool_path("ext4dist"), "-p", pid});
    ToolProcess typed({tool_path("fsdist"), "--type", "ext4", "-p", pid, "-o", "json"});
    ToolProcess raw({tool_path("ext4dist"), "-m", "-p", pid, "-o", "json"},
                    ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tracepoint", 1); });
    ToolProcess others({tool_path("ext4dist"), "-p", second_pid, "-o", "json"});
    for (ToolProcess* t : {&text, &typed, &raw, &others})
        REQUIRE(t->wait_attached());
    REQUIRE(child.run() == 0);
    REQUIRE(second.run() == 0);
    Finished t = text.stop();
    Finished j = typed.stop();
    Finished m = raw.stop();
    Finished o = others.stop();
    for (Finished* f : {&t, &j, &m, &o})
        CHECK(f->exit_code == 0);

    check_text(t.out, mine);
    check_json(j.out, mine, "usecs");
    check_json(m.out, mine, "msecs");

    // Each fsync flushed 64 KiB through the loop device: at least 16 us
    // (and under 10 s); cached reads of 4 KiB in milliseconds: all in the
    // first bucket.
    std::map<std::string, json> us = json_records(j.out);
    for (const json& b : us.at("fsync").at("buckets"))
        if (b.at("count").get<uint64_t>() > 0) {
            CHECK(b.at("low").get<uint64_t>() >= 16);
            CHECK(b.at("high").get<uint64_t>() < 10'000'000);
        }
    std::map<std::string, json> ms = json_records(m.out);
    for (const json& b : ms.at("read").at("buckets"))
        if (b.at("count").get<uint64_t>() > 0) CHECK(b.at("low") == 0);
    // -p: the second child's calls only, the first one's left out.
    check_json(o.out, other, "usecs");
}

TEST_CASE("fsdist rejects an unknown file-system type with exit 2 naming it, and ext4dist names "
          "itself",
          "[fsdist]") {
    Finished unknown = run({tool_path("fsdist"), "--type", "nosuchfs"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("'nosuchfs'") != std::string::npos);
    Finished bad = run({tool_path("fsdist"), "--type", "ext4;rm"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("'ext4;rm'") != std::string::npos);
    // -t is the thread ID here, not libbpf-tools' type.
    Finished tid = run({tool_path("fsdist"), "-t", "ext4"});
    CHECK(tid.exit_code == 2);
    CHECK(tid.err.find("'ext4'") != std::string::npos);
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{tool_path("ext4dist")},
          std::vector<std::string>{tool_path("corescope"), "ext4dist"}}) {
        std::vector<std::string> help = command;
        help.push_back("--help");
        Finished h = run(help);
        CHECK(h.out.rfind("Usage: ext4dist [OPTIONS] [interval [count]]\n", 0) == 0);
        CHECK(h.out.find("on ext4 file systems") != std::string::npos);
        std::vector<std::string> extra = command;
        extra.insert(extra.end(), {"1", "2", "3"});
        Finished e = run(extra);
        CHECK(e.exit_code == 2);
        CHECK(e.err.rfind("ext4dist: ", 0) == 0);
    }
}

TEST_CASE("ext4dist interval count prints every operation each interval and ends by itself; -T "
          "opens each interval with its time",
          "[fsdist]") {
    REQUIRE_BPF();
    ToolProcess text({tool_path("ext4dist"), "-T", "1", "1"});
    Finished r = run({tool_path("ext4dist"), "-o", "json", "1", "1"}, 30);
    Finished t = text.wait(30);
    CHECK(r.exit_code == 0);
    CHECK(t.exit_code == 0);
    REQUIRE(!lines(t.out).empty());
    CHECK(std::regex_match(lines(t.out).at(0), std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]")));
    std::vector<std::string> ops;
    for (const std::string& line : lines(r.out)) {
        json j = json::parse(line);
        if (j.value("type", "") == "histogram") ops.push_back(j.at("operation"));
    }
    CHECK(ops == std::vector<std::string>{"read", "write", "open", "fsync"});
}

} // namespace test_fsdist
