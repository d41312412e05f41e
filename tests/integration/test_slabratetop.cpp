// slabratetop against a child of this test that opens and closes /dev/null
// a known number of times: each open allocates one struct file from the
// filp cache, so the child's filp row counts at least that many, and its
// bytes are the cache's object size (its slab_size, /proc/slabinfo's
// objsize) times its allocations. An idle child, a UID and a cgroup nobody
// else uses show the other side of each filter: nothing.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace test_slabratetop {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int opens = 3000;

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("slabratetop"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
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

// The entry of the filp cache, or null.
json filp_entry(const json& record) {
    for (const json& e : record.at("entries"))
        if (e.at("name") == "filp") return e;
    return nullptr;
}

uint64_t filp_slab_size() {
    std::string text;
    FILE* f = fopen("/sys/kernel/slab/filp/slab_size", "r");
    unsigned long long size = 0;
    if (f) {
        if (fscanf(f, "%llu", &size) != 1) size = 0;
        fclose(f);
    }
    return size;
}

} // namespace

TEST_CASE("slabratetop counts a process's filp allocations and their bytes, with its filters "
          "and on every tier",
          "[slabratetop]") {
    REQUIRE_BPF();
    struct stat st {};
    // A cache merged into another is counted under the other's name.
    if (lstat("/sys/kernel/slab/filp", &st) != 0 || !S_ISDIR(st.st_mode))
        SKIP_CASE("no unmerged filp slab cache in /sys/kernel/slab");
    uint64_t size = filp_slab_size();
    REQUIRE(size > 0);
    uid_t uid = 2000000000u + static_cast<uid_t>(getpid() % 100000);
    TestCgroup cgroup(unique_token("t16-slabratetop"));
    TestCgroup empty(unique_token("t16-slabratetop-empty"));
    REQUIRE_FALSE(cgroup.path.empty());
    GatedChild idle([] { return 0; });
    GatedChild actor(
        [uid] {
            if (setresuid(uid, uid, uid) != 0) return 1;
            for (int i = 0; i < opens; i++) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0) return 2;
                close(fd);
            }
            return 0;
        },
        "t16slabactor");
    REQUIRE(cgroup.add(actor.pid()));
    std::string pid = std::to_string(actor.pid()), other = std::to_string(idle.pid());

    auto by_pid = start({"-o", "json", "-r", "0", "-p", pid, "600"});
    auto by_tid = start({"-o", "json", "-r", "0", "-t", pid, "600"});
    auto by_uid = start({"-o", "json", "-r", "0", "-u", std::to_string(uid), "600"});
    auto by_cgroup = start({"-o", "json", "-r", "0", "-c", cgroup.path, "600"});
    auto not_pid = start({"-o", "json", "-r", "0", "-p", other, "600"});
    auto not_tid = start({"-o", "json", "-r", "0", "-t", other, "600"});
    auto not_uid = start({"-o", "json", "-r", "0", "-u", std::to_string(uid + 1), "600"});
    auto not_cgroup = start({"-o", "json", "-r", "0", "-c", empty.path, "600"});
    auto top = start({"-o", "json", "-s", "count", "-r", "1", "600"});
    auto text = start({"-C", "-T", "-r", "0", "-p", pid, "600"});
    auto raw = start({"-o", "json", "-p", pid, "600"}, "tp_btf");
    auto tracefs = start({"-o", "json", "-p", pid, "600"}, "tp_btf,raw_tp");
    std::vector<ToolProcess*> all = {by_pid.get(),  by_tid.get(),  by_uid.get(),  by_cgroup.get(),
                                     not_pid.get(), not_tid.get(), not_uid.get(), not_cgroup.get(),
                                     top.get(),     text.get(),    raw.get(),     tracefs.get()};
    for (ToolProcess* t : all)
        REQUIRE(t->wait_attached());
    REQUIRE(actor.run() == 0);

    auto check_filp = [&](const json& record) {
        INFO(record.dump());
        json e = filp_entry(record);
        REQUIRE(e.is_object());
        uint64_t allocs = e.at("allocs").get<uint64_t>();
        CHECK(allocs >= static_cast<uint64_t>(opens));
        CHECK(allocs <= static_cast<uint64_t>(opens) + 100); // the child's own start and end
        CHECK(e.at("bytes").get<uint64_t>() == allocs * size);
        CHECK(record.at("allocs").get<uint64_t>() >= allocs);
        CHECK(record.at("bytes").get<uint64_t>() >= allocs * size);
        CHECK(record.at("caches").get<uint64_t>() >= 1);
        CHECK(record.at("loadavg").is_string());
        CHECK(record.at("interval_s").get<double>() > 0);
    };
    for (ToolProcess* t : {by_pid.get(), by_tid.get(), by_uid.get(), by_cgroup.get(), raw.get()})
        check_filp(only_record(*t));
    // The tracefs record names the cache only on recent kernels (6.18 here).
    {
        Finished f = tracefs->stop();
        INFO(f.out << f.err);
        if (f.exit_code == 0 && !f.out.empty())
            check_filp(json_lines(f.out).at(0));
        else
            CHECK(f.err.find("name") != std::string::npos);
    }
    // The other side of each filter: a task, UID or cgroup that allocated
    // nothing has no row.
    for (ToolProcess* t : {not_pid.get(), not_tid.get(), not_uid.get(), not_cgroup.get()}) {
        json r = only_record(*t);
        INFO(r.dump());
        CHECK(filp_entry(r).is_null());
        CHECK(r.at("entries").empty());
        CHECK(r.at("allocs") == 0);
    }
    // -s count -r 1: the one cache allocated from most, of all the host's.
    json r = only_record(*top);
    REQUIRE(r.at("entries").size() == 1);
    CHECK(r.at("entries")[0].at("allocs").get<uint64_t>() >= static_cast<uint64_t>(opens));
    CHECK(r.at("caches").get<uint64_t>() >= 1);

    // Text: the load average line, -T's time, the header, the filp row.
    Finished f = text->stop();
    CHECK(f.exit_code == 0);
    INFO(f.out);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() >= 4);
    CHECK(std::regex_match(out[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] loadavg: "
                                              "[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+/[0-9]+ [0-9]+")));
    CHECK(std::regex_match(out[1], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    CHECK(std::regex_match(out[2], std::regex("CACHE +ALLOCS +BYTES")));
    bool found = false;
    std::smatch m;
    for (const std::string& line : out)
        if (std::regex_match(line, m, std::regex("filp +([0-9]+) +([0-9]+)"))) {
            found = true;
            uint64_t allocs = std::stoull(m[1]);
            CHECK(allocs >= static_cast<uint64_t>(opens));
            CHECK(std::stoull(m[2]) == allocs * size);
        }
    CHECK(found);
    CHECK(f.out.find('\033') == std::string::npos); // a pipe is not cleared
}

// interval and count; and -v, --btf (a copy of the kernel's BTF) and -d,
// which end it by themselves, side by side.
TEST_CASE("slabratetop prints a table per interval and stops after count or -d", "[slabratetop]") {
    REQUIRE_BPF();
    std::string btf = "/tmp/" + unique_token("slabratetop-btf") + ".btf";
    REQUIRE(std::filesystem::copy_file("/sys/kernel/btf/vmlinux", btf));
    double start = now_s();
    ToolProcess counted({tool_path("slabratetop"), "-o", "json", "-r", "3", "1", "2"});
    ToolProcess timed({tool_path("slabratetop"), "-v", "--btf", btf, "-d", "2", "-r", "1"});
    Finished f = counted.wait(30);
    double wall = now_s() - start;
    Finished t = timed.wait(30);
    double timed_wall = now_s() - start;
    unlink(btf.c_str());
    {
        INFO(t.out << t.err);
        CHECK(t.exit_code == 0);
        CHECK(timed_wall >= 2);
        CHECK(t.err.find("slab allocations: tp_btf") != std::string::npos); // -v's plan
        CHECK(lines_containing(t.out, "CACHE").size() >= 1);
    }
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records) {
        CHECK(r.at("entries").size() <= 3);
        // Most bytes first.
        const json& e = r.at("entries");
        for (size_t i = 1; i < e.size(); i++)
            CHECK(e[i - 1].at("bytes").get<uint64_t>() >= e[i].at("bytes").get<uint64_t>());
    }
}

TEST_CASE("slabratetop refuses a bad sort key and row count", "[slabratetop]") {
    Finished f = run({tool_path("slabratetop"), "-s", "weight"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("weight") != std::string::npos);
    f = run({tool_path("slabratetop"), "-r", "many"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("many") != std::string::npos);
}

} // namespace test_slabratetop
