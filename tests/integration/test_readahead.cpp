// readahead against a child of this test that reads a cold 8 MiB file from
// start to end (readahead brings it in, and every page of it is used), then
// reads only the first 16 KiB of a second cold file (readahead brings in
// more than that: the rest is read ahead and never used). Which pages of
// each file ended up cached is known from mincore, so the counts are
// bounded on both sides; an idle child shows the other side of -p.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace test_readahead {

using namespace itest;
using nlohmann::json;

namespace {

constexpr size_t whole_size = 8 << 20;
constexpr size_t part_size = 8 << 20;
constexpr size_t part_read = 16 << 10;

// A file of size bytes, written, synced and dropped from the page cache.
int cold_file(const std::string& path, size_t size) {
    int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
    REQUIRE(fd >= 0);
    std::vector<char> block(1 << 20, 'r');
    for (size_t done = 0; done < size; done += block.size())
        REQUIRE(write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
    REQUIRE(fsync(fd) == 0);
    REQUIRE(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    REQUIRE(resident_pages(fd, size) < pages_of(size) / 100);
    return fd;
}

std::unique_ptr<ToolProcess> start(std::vector<std::string> args) {
    args.insert(args.begin(), tool_path("readahead"));
    return std::make_unique<ToolProcess>(args);
}

} // namespace

TEST_CASE("readahead counts the pages read ahead, those used and those not, with -p",
          "[readahead]") {
    REQUIRE_BPF();
    std::string whole_path = "/tmp/" + unique_token("readahead-whole");
    std::string part_path = "/tmp/" + unique_token("readahead-part");
    int whole_fd = cold_file(whole_path, whole_size);
    int part_fd = cold_file(part_path, part_size);

    GatedChild idle([] { return 0; });
    GatedChild actor(
        [&] {
            static char buf[1 << 16];
            int fd = open(whole_path.c_str(), O_RDONLY);
            if (fd < 0) return 1;
            size_t total = 0;
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0)
                total += static_cast<size_t>(n);
            close(fd);
            if (total != whole_size) return 2;
            fd = open(part_path.c_str(), O_RDONLY);
            if (fd < 0 || read(fd, buf, part_read) != static_cast<ssize_t>(part_read)) return 3;
            close(fd);
            return 0;
        },
        "t16readahead");
    std::string pid = std::to_string(actor.pid());
    TestCgroup cgroup(unique_token("t16-readahead"));
    TestCgroup empty(unique_token("t16-readahead-empty"));
    REQUIRE_FALSE(cgroup.path.empty());
    REQUIRE(cgroup.add(actor.pid()));
    std::string nobody = std::to_string(2000000000u + static_cast<uid_t>(getpid() % 100000));

    auto by_pid = start({"-o", "json", "-p", pid});
    auto not_pid = start({"-o", "json", "-p", std::to_string(idle.pid())});
    auto by_cgroup = start({"-o", "json", "-c", cgroup.path});
    auto not_cgroup = start({"-o", "json", "-c", empty.path});
    auto by_uid = start({"-o", "json", "-u", "0"}); // the child is root's
    auto not_uid = start({"-o", "json", "-u", nobody});
    auto text = start({"-m", "-p", pid});
    std::vector<ToolProcess*> all = {by_pid.get(), not_pid.get(), by_cgroup.get(), not_cgroup.get(),
                                     by_uid.get(), not_uid.get(), text.get()};
    for (ToolProcess* t : all)
        REQUIRE(t->wait_attached());
    REQUIRE(actor.run() == 0);
    const uint64_t whole_cached = resident_pages(whole_fd, whole_size);
    const uint64_t part_cached = resident_pages(part_fd, part_size);
    close(whole_fd);
    close(part_fd);
    unlink(whole_path.c_str());
    unlink(part_path.c_str());
    const uint64_t part_touched = pages_of(part_read);
    INFO("cached: whole " << whole_cached << " part " << part_cached);
    REQUIRE(whole_cached == pages_of(whole_size));
    // Readahead brought in more of the second file than was read.
    REQUIRE(part_cached > part_touched);

    Finished f = by_pid->stop();
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    const json& r = records[0];
    uint64_t pages = r.at("pages").get<uint64_t>(), used = r.at("used").get<uint64_t>(),
             unused = r.at("unused").get<uint64_t>();
    // Every page the child had cached came in by its readahead, except the
    // first page of each file, which a read may bring in by itself.
    CHECK(pages >= whole_cached + part_cached - 2);
    CHECK(pages <= whole_cached + part_cached);
    CHECK(used <= pages);
    CHECK(unused == pages - used);
    // The untouched part of the second file is read ahead and unused; the
    // first file's pages and the read part of the second are used (on the
    // tracepoints, a read's pages are found 32 lookups a batch at most:
    // room for a batch's tail).
    CHECK(unused >= part_cached - part_touched);
    CHECK(unused <= part_cached - part_touched + (whole_cached + part_cached) / 20);
    CHECK(used >= whole_cached * 19 / 20);
    CHECK(r.at("evicted_unused") == 0);
    CHECK(r.at("untracked") == 0);
    CHECK(r.at("unit") == "usecs");
    CHECK(r.at("total").get<uint64_t>() == used); // the histogram holds the used pages

    // The child's cgroup and UID see at least its pages.
    for (ToolProcess* p : {by_cgroup.get(), by_uid.get()}) {
        Finished b = p->stop();
        CHECK(b.exit_code == 0);
        std::vector<json> seen = json_lines(b.out);
        REQUIRE(seen.size() == 1);
        INFO(seen[0].dump());
        CHECK(seen[0].at("pages").get<uint64_t>() >= whole_cached + part_cached - 2);
        CHECK(seen[0].at("unused").get<uint64_t>() >= part_cached - part_touched);
    }
    // The other side of each filter: the idle child, a cgroup and a UID
    // with no task read nothing ahead.
    for (ToolProcess* p : {not_pid.get(), not_cgroup.get(), not_uid.get()}) {
        Finished o = p->stop();
        CHECK(o.exit_code == 0);
        std::vector<json> other = json_lines(o.out);
        REQUIRE(other.size() == 1);
        CHECK(other[0].at("pages") == 0);
        CHECK(other[0].at("used") == 0);
    }

    // Text: the counts under their header, then the histogram in msecs.
    Finished t = text->stop();
    CHECK(t.exit_code == 0);
    INFO(t.out);
    std::vector<std::string> out = lines(t.out);
    REQUIRE(out.size() >= 4);
    CHECK(std::regex_match(out[0], std::regex(" +READAHEAD +USED +UNUSED +EVICTED_UNUSED")));
    std::smatch m;
    REQUIRE(std::regex_match(out[1], m, std::regex(" +([0-9]+) +([0-9]+) +([0-9]+) +0")));
    CHECK(std::stoull(m[1]) >= whole_cached + part_cached - 2);
    CHECK(std::stoull(m[3]) >= part_cached - part_touched);
    CHECK(lines_containing(t.out, "msecs").size() == 1);
}

// interval and count; and -v, --btf (a copy of the kernel's BTF), -T and
// -d, side by side.
TEST_CASE("readahead prints the run so far every interval and stops after count or -d",
          "[readahead]") {
    REQUIRE_BPF();
    std::string btf = "/tmp/" + unique_token("readahead-btf") + ".btf";
    REQUIRE(std::filesystem::copy_file("/sys/kernel/btf/vmlinux", btf));
    double start_s = now_s();
    ToolProcess counted({tool_path("readahead"), "-o", "json", "1", "2"});
    ToolProcess timed({tool_path("readahead"), "-T", "-v", "--btf", btf, "-d", "2"});
    Finished f = counted.wait(30);
    double wall = now_s() - start_s;
    Finished t = timed.wait(30);
    double timed_wall = now_s() - start_s;
    unlink(btf.c_str());
    {
        INFO(t.out << t.err);
        CHECK(t.exit_code == 0);
        CHECK(timed_wall >= 2);
        CHECK(t.err.find("readahead: attach plan") != std::string::npos); // -v
        std::vector<std::string> out = lines(t.out);
        REQUIRE(out.size() >= 3);
        CHECK(std::regex_match(out[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"))); // -T
        CHECK(lines_containing(t.out, "READAHEAD").size() == 1);
    }
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    // The run so far: never less than before.
    CHECK(records[1].at("pages") >= records[0].at("pages"));
    CHECK(records[1].at("used") >= records[0].at("used"));
}

TEST_CASE("readahead refuses a bad interval", "[readahead]") {
    Finished f = run({tool_path("readahead"), "0"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("'0'") != std::string::npos);
}

} // namespace test_readahead
