// cachetop against a child of this test with page cache traffic of known
// size: it writes a new 4 MiB file (its pages dirtied, created by the
// write: no misses), reads it back (warm: hits), and reads an 8 MiB file
// the test wrote and dropped from the cache (cold: misses). Its row must
// show those pages, within bounds that leave room only for the child's own
// start and end (faults on libc's cached pages: hits). An idle child, a UID
// and a cgroup nobody else uses show the other side of each filter.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace test_cachetop {

using namespace itest;
using nlohmann::json;

namespace {

constexpr size_t written_size = 4 << 20;
constexpr size_t cold_size = 8 << 20;
constexpr char comm[] = "t16cachetop";

std::unique_ptr<ToolProcess> start(std::vector<std::string> args) {
    args.insert(args.begin(), tool_path("cachetop"));
    return std::make_unique<ToolProcess>(args);
}

// The one record a tool stopped within its first interval printed.
json only_record(ToolProcess& p) {
    Finished f = p.stop();
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    return records[0];
}

json entry_of(const json& record, pid_t pid) {
    for (const json& e : record.at("entries"))
        if (e.at("pid") == pid) return e;
    return nullptr;
}

// Reads the whole file; false when it was not size bytes.
bool read_all(int fd, size_t size) {
    static char buf[1 << 16];
    if (lseek(fd, 0, SEEK_SET) != 0) return false;
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += static_cast<size_t>(n);
    return total == size;
}

} // namespace

TEST_CASE("cachetop counts a process's dirtied, hit and missed pages, with its filters",
          "[cachetop]") {
    REQUIRE_BPF();
    const uint64_t written = pages_of(written_size), cold = pages_of(cold_size);
    // The cold file, written by the test and dropped from the cache.
    std::string cold_path = "/tmp/" + unique_token("cachetop-cold");
    int cold_fd = open(cold_path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
    REQUIRE(cold_fd >= 0);
    {
        std::vector<char> block(1 << 20, 'c');
        for (size_t done = 0; done < cold_size; done += block.size())
            REQUIRE(write(cold_fd, block.data(), block.size()) ==
                    static_cast<ssize_t>(block.size()));
    }
    REQUIRE(fsync(cold_fd) == 0);
    REQUIRE(posix_fadvise(cold_fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    const uint64_t cached_before = resident_pages(cold_fd, cold_size);
    REQUIRE(cached_before < cold / 100);
    std::string written_path = "/tmp/" + unique_token("cachetop-written");

    uid_t uid = 2000000000u + static_cast<uid_t>(getpid() % 100000);
    TestCgroup cgroup(unique_token("t16-cachetop"));
    TestCgroup empty(unique_token("t16-cachetop-empty"));
    REQUIRE_FALSE(cgroup.path.empty());
    GatedChild idle([] { return 0; });
    GatedChild actor(
        [&] {
            if (setresuid(uid, uid, uid) != 0) return 1;
            int fd = open(written_path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
            if (fd < 0) return 2;
            static char block[1 << 16];
            memset(block, 'w', sizeof block);
            for (size_t done = 0; done < written_size; done += sizeof block)
                if (write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) return 3;
            if (!read_all(fd, written_size)) return 4; // warm: hits
            close(fd);
            int in = open(cold_path.c_str(), O_RDONLY);
            if (in < 0 || !read_all(in, cold_size)) return 5; // cold: misses
            close(in);
            return 0;
        },
        comm);
    REQUIRE(cgroup.add(actor.pid()));
    std::string pid = std::to_string(actor.pid()), other = std::to_string(idle.pid());

    auto by_pid = start({"-o", "json", "-r", "0", "-p", pid, "600"});
    auto by_uid = start({"-o", "json", "-r", "0", "-u", std::to_string(uid), "600"});
    auto by_cgroup = start({"-o", "json", "-r", "0", "-c", cgroup.path, "600"});
    auto by_name = start({"-o", "json", "-r", "0", "-n", comm, "600"});
    auto not_pid = start({"-o", "json", "-r", "0", "-p", other, "600"});
    auto not_uid = start({"-o", "json", "-r", "0", "-u", std::to_string(uid + 1), "600"});
    auto not_cgroup = start({"-o", "json", "-r", "0", "-c", empty.path, "600"});
    auto not_name = start({"-o", "json", "-r", "0", "-n", "t16nobody", "600"});
    auto top = start({"-o", "json", "-s", "MISSES", "-r", "2", "600"});
    auto by_pid_desc = start({"-o", "json", "-s", "pid", "-R", "-r", "0", "600"});
    auto text = start({"-C", "-T", "-r", "0", "-p", pid, "600"});
    std::vector<ToolProcess*> all = {by_pid.get(),      by_uid.get(),   by_cgroup.get(),
                                     by_name.get(),     not_pid.get(),  not_uid.get(),
                                     not_cgroup.get(),  not_name.get(), top.get(),
                                     by_pid_desc.get(), text.get()};
    for (ToolProcess* t : all)
        REQUIRE(t->wait_attached());
    REQUIRE(actor.run() == 0);
    unlink(written_path.c_str());
    unlink(cold_path.c_str());
    close(cold_fd);

    // The child's own start and end (faults on cached libc pages: hits, a
    // few misses) is all the room above the known counts.
    const uint64_t slack = 256;
    auto check_row = [&](const json& record) {
        INFO(record.dump());
        json e = entry_of(record, actor.pid());
        REQUIRE(e.is_object());
        CHECK(e.at("comm") == comm);
        CHECK(e.at("uid") == uid);
        uint64_t hits = e.at("hits").get<uint64_t>(), misses = e.at("misses").get<uint64_t>(),
                 dirties = e.at("dirties").get<uint64_t>();
        // Every page written dirtied once.
        CHECK(dirties >= written);
        CHECK(dirties <= written + slack);
        // Every cold page not cached a miss; the written pages none.
        CHECK(misses >= cold - cached_before);
        CHECK(misses <= cold + slack);
        // The warm read's pages hits (accesses less misses: the cold
        // read's pages are both).
        CHECK(hits >= written - cached_before);
        CHECK(hits <= written + slack);
        CHECK(e.at("accesses").get<uint64_t>() >= written + cold);
        double read_ratio = e.at("read_hit_ratio").get<double>();
        CHECK(read_ratio == Approx(static_cast<double>(hits) / (hits + misses)).margin(0.0001));
        // The written pages were created by the write: none was a write hit.
        CHECK(e.at("write_hit_ratio").get<double>() < 0.05);
        CHECK(record.at("hits").get<uint64_t>() >= hits);
        CHECK(record.at("misses").get<uint64_t>() >= misses);
        CHECK(record.at("dirties").get<uint64_t>() >= dirties);
        CHECK(record.at("processes").get<uint64_t>() >= 1);
        CHECK(record.at("cached_mb").get<uint64_t>() > 0);
        CHECK(record.at("interval_s").get<double>() > 0);
    };
    for (ToolProcess* t : {by_pid.get(), by_uid.get(), by_cgroup.get(), by_name.get()})
        check_row(only_record(*t));
    // The other side of each filter: nothing of the child (the idle child,
    // a UID and a cgroup with no task in them: no row at all).
    for (ToolProcess* t : {not_pid.get(), not_uid.get(), not_cgroup.get(), not_name.get()}) {
        json r = only_record(*t);
        INFO(r.dump());
        CHECK(entry_of(r, actor.pid()).is_null());
        CHECK(r.at("entries").empty());
    }
    {
        // -s MISSES -r 2: at most two rows, most misses first, and the
        // child's misses are at least the second row's.
        json r = only_record(*top);
        INFO(r.dump());
        const json& e = r.at("entries");
        REQUIRE(e.size() >= 1);
        CHECK(e.size() <= 2);
        CHECK(e[0].at("misses").get<uint64_t>() >= cold - cached_before);
        if (e.size() == 2) CHECK(e[0].at("misses") >= e[1].at("misses"));
    }
    {
        // -s pid -R: every process, highest PID first.
        json r = only_record(*by_pid_desc);
        const json& e = r.at("entries");
        INFO(r.dump());
        CHECK(entry_of(r, actor.pid()).is_object());
        for (size_t i = 1; i < e.size(); i++)
            CHECK(e[i - 1].at("pid").get<uint64_t>() >= e[i].at("pid").get<uint64_t>());
    }

    // Text: the meminfo line, -T's time, the header, the child's row.
    Finished f = text->stop();
    CHECK(f.exit_code == 0);
    INFO(f.out);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() == 4);
    CHECK(std::regex_match(out[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] Buffers MB: "
                                              "[0-9]+ / Cached MB: [0-9]+")));
    CHECK(std::regex_match(out[1], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    CHECK(std::regex_match(out[2], std::regex(" +PID +UID CMD +HITS +MISSES +DIRTIES +READ_HIT% "
                                              "+WRITE_HIT%")));
    std::smatch m;
    REQUIRE(std::regex_match(out[3], m,
                             std::regex(" *" + pid + " +" + std::to_string(uid) + " " + comm +
                                        " +([0-9]+) +([0-9]+) +([0-9]+) +([0-9.]+)% +([0-9.]+)%")));
    CHECK(std::stoull(m[2]) >= cold - cached_before);
    CHECK(std::stoull(m[3]) >= written);
    CHECK(f.out.find('\033') == std::string::npos); // a pipe is not cleared
}

// interval and count; and -v, --btf (a copy of the kernel's BTF) and -d,
// which end it by themselves, side by side.
TEST_CASE("cachetop prints a table per interval and stops after count or -d", "[cachetop]") {
    REQUIRE_BPF();
    std::string btf = "/tmp/" + unique_token("cachetop-btf") + ".btf";
    REQUIRE(std::filesystem::copy_file("/sys/kernel/btf/vmlinux", btf));
    double start_s = now_s();
    ToolProcess counted({tool_path("cachetop"), "-o", "json", "-r", "3", "1", "2"});
    ToolProcess timed({tool_path("cachetop"), "-v", "--btf", btf, "-d", "2", "-C"});
    Finished f = counted.wait(30);
    double wall = now_s() - start_s;
    Finished t = timed.wait(30);
    double timed_wall = now_s() - start_s;
    unlink(btf.c_str());
    {
        INFO(t.out << t.err);
        CHECK(t.exit_code == 0);
        CHECK(timed_wall >= 2);
        CHECK(t.err.find("cachetop: attach plan") != std::string::npos); // -v
        CHECK(lines_containing(t.out, "READ_HIT%").size() >= 1);
    }
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records) {
        const json& e = r.at("entries");
        CHECK(e.size() <= 3);
        for (size_t i = 1; i < e.size(); i++) // most hits first
            CHECK(e[i - 1].at("hits").get<uint64_t>() >= e[i].at("hits").get<uint64_t>());
    }
}

TEST_CASE("cachetop refuses a bad sort field and row count", "[cachetop]") {
    Finished f = run({tool_path("cachetop"), "-s", "weight"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("weight") != std::string::npos);
    f = run({tool_path("cachetop"), "-r", "many"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("many") != std::string::npos);
}

} // namespace test_cachetop
