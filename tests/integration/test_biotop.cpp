// biotop against O_DIRECT reads and writes of known sizes that two children
// of the test make on a loop device of the test's own: each read or write
// of 4, 16, 32 or 64 KiB is one request of that size submitted by the child
// itself, so each child's row per direction has an exact request count and
// KiB. Every instance runs one long interval and prints its one table when
// stopped.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <unistd.h>

namespace test_biotop {

using namespace itest;
using nlohmann::json;

namespace {

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("biotop"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

// The one table a tool stopped within its first interval printed.
json only_table(ToolProcess& p) {
    Finished f = p.stop();
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> tables = json_lines(f.out);
    REQUIRE(tables.size() == 1);
    return tables[0];
}

// The rows of pid in a table, by direction.
std::map<std::string, json> rows_of(const json& table, pid_t pid) {
    std::map<std::string, json> out;
    for (const json& e : table.at("entries"))
        if (e.at("pid") == pid) out[e.at("direction").get<std::string>()] = e;
    return out;
}

// What the children do: A reads 8 x 4 KiB and 3 x 64 KiB (11 requests,
// 224 KiB) and writes 5 x 16 KiB (5, 80 KiB); B reads 6 x 32 KiB (6, 192 KiB).
struct Expected {
    uint64_t io, kbytes;
};
const Expected a_reads = {11, 224}, a_writes = {5, 80}, b_reads = {6, 192};

void check_row(const json& row, const Expected& want, const std::string& disk) {
    INFO(row.dump());
    REQUIRE(row.is_object());
    CHECK(row.at("io") == want.io);
    CHECK(row.at("kbytes") == want.kbytes);
    CHECK(row.at("bytes") == want.kbytes * 1024);
    CHECK(row.at("avg_ms").get<double>() > 0);
    CHECK(row.at("total_us").get<uint64_t>() > 0);
    CHECK(row.at("disk") == disk);
    CHECK(row.at("major") == 7); // loop devices
}

} // namespace

TEST_CASE("biotop counts each process's requests and KiB per direction exactly, on every tier, "
          "and its filters keep what they name",
          "[biotop]") {
    REQUIRE_BPF();
    LoopDisk loop(4 << 20);
    if (loop.path().empty()) SKIP_CASE("cannot set up a loop device (losetup)");
    ScratchFile file(1 << 20);
    REQUIRE(file.ok());
    std::string other_disk = disk_of(file.path());
    REQUIRE(!other_disk.empty());
    REQUIRE(other_disk != loop.name());
    std::string disk = loop.name(), dev = loop.path();
    std::string a_comm = unique_comm("btopA"), b_comm = unique_comm("btopB");
    GatedChild a(
        [&] {
            return direct_reads(dev, 4096, 8) && direct_writes(dev, 16384, 5) &&
                           direct_reads(dev, 65536, 3)
                       ? 0
                       : 1;
        },
        a_comm.c_str());
    GatedChild b([&] { return direct_reads(dev, 32768, 6) ? 0 : 1; }, b_comm.c_str());
    TestCgroup cgroup(unique_token("biotop"));
    if (cgroup.path.empty()) SKIP_CASE("no writable cgroup v2 mount");
    REQUIRE(cgroup.add(a.pid()));
    std::string a_pid = std::to_string(a.pid()), b_pid = std::to_string(b.pid());

    auto all = start({"--disk", disk, "-o", "json", "-r", "0", "600"});
    auto text = start({"--disk", disk, "-C", "-T", "-r", "0", "600"});
    auto by_pid = start({"-p", a_pid, "-o", "json", "600"});
    auto by_tid = start({"-t", b_pid, "--btf", "/sys/kernel/btf/vmlinux", "-o", "json", "600"});
    auto by_uid = start({"-u", "0", "--disk", disk, "-o", "json", "600"});
    auto not_uid = start({"-u", "65534", "--disk", disk, "-o", "json", "600"});
    auto by_cgroup = start({"-c", cgroup.path, "-o", "json", "600"});
    auto by_name = start({"-n", b_comm, "-o", "json", "600"});
    auto other = start({"--disk", other_disk, "-o", "json", "-r", "0", "600"});
    auto top_bytes = start({"-p", a_pid, "-s", "bytes", "-r", "1", "-o", "json", "600"});
    auto top_io = start({"-p", a_pid, "-s", "io", "-r", "1", "-o", "json", "600"});
    auto raw = start({"-v", "--disk", disk, "-o", "json", "600"}, "tp_btf");
    auto tracefs = start({"-v", "--disk", disk, "-o", "json", "600"}, "tp_btf,raw_tp");
    std::vector<ToolProcess*> tools = {
        all.get(),     text.get(),      by_pid.get(),  by_tid.get(), by_uid.get(),
        not_uid.get(), by_cgroup.get(), by_name.get(), other.get(),  top_bytes.get(),
        top_io.get(),  raw.get(),       tracefs.get()};
    for (ToolProcess* t : tools)
        REQUIRE(t->wait_attached());
    REQUIRE(a.run() == 0);
    REQUIRE(b.run() == 0);

    {
        INFO("JSON: a row per process and direction, exactly");
        json t = only_table(*all);
        std::map<std::string, json> ra = rows_of(t, a.pid()), rb = rows_of(t, b.pid());
        REQUIRE(ra.size() == 2);
        REQUIRE(rb.size() == 1);
        check_row(ra["R"], a_reads, disk);
        check_row(ra["W"], a_writes, disk);
        check_row(rb["R"], b_reads, disk);
        CHECK(ra["R"].at("comm") == a_comm);
        CHECK(rb["R"].at("comm") == b_comm);
        CHECK(t.at("io").get<uint64_t>() >= 22);
        CHECK(t.at("rows").get<uint64_t>() >= 3);
        CHECK(t.at("loadavg").is_string());
        CHECK(t.at("interval_s").get<double>() > 0);
    }
    for (auto [tool, tier] : {std::pair(raw.get(), "raw_tp:block_rq_issue"),
                              std::pair(tracefs.get(), "tracepoint:block:block_rq_issue")}) {
        INFO("the lower tiers count the same: " << tier);
        Finished f = tool->stop();
        INFO(f.err);
        CHECK(f.exit_code == 0);
        CHECK(f.err.find(tier) != std::string::npos);
        std::vector<json> tables = json_lines(f.out);
        REQUIRE(tables.size() == 1);
        std::map<std::string, json> ra = rows_of(tables[0], a.pid()),
                                    rb = rows_of(tables[0], b.pid());
        check_row(ra["R"], a_reads, disk);
        check_row(ra["W"], a_writes, disk);
        check_row(rb["R"], b_reads, disk);
    }
    {
        INFO("-p: A's rows and no other; -t: B's; -c: A's; -n: B's");
        json t = only_table(*by_pid);
        CHECK(t.at("entries").size() == 2);
        check_row(rows_of(t, a.pid())["R"], a_reads, disk);
        check_row(rows_of(t, a.pid())["W"], a_writes, disk);
        for (ToolProcess* p : {by_tid.get(), by_name.get()}) {
            json tb = only_table(*p);
            CHECK(tb.at("entries").size() == 1);
            check_row(rows_of(tb, b.pid())["R"], b_reads, disk);
        }
        json tc = only_table(*by_cgroup);
        CHECK(tc.at("entries").size() == 2);
        check_row(rows_of(tc, a.pid())["W"], a_writes, disk);
        CHECK(rows_of(tc, b.pid()).empty());
    }
    {
        INFO("-u: root's children in root's run, none in nobody's");
        json t = only_table(*by_uid);
        check_row(rows_of(t, a.pid())["R"], a_reads, disk);
        check_row(rows_of(t, b.pid())["R"], b_reads, disk);
        json n = only_table(*not_uid);
        CHECK(rows_of(n, a.pid()).empty());
        CHECK(rows_of(n, b.pid()).empty());
    }
    {
        INFO("--disk: another disk's run has none of the children's requests");
        json t = only_table(*other);
        CHECK(rows_of(t, a.pid()).empty());
        CHECK(rows_of(t, b.pid()).empty());
    }
    {
        INFO("-s bytes -r 1: A's reads (224 KiB); -s io -r 1: A's reads (11)");
        json t = only_table(*top_bytes);
        REQUIRE(t.at("entries").size() == 1);
        CHECK(t.at("entries")[0].at("direction") == "R");
        CHECK(t.at("rows") == 2);
        json u = only_table(*top_io);
        REQUIRE(u.at("entries").size() == 1);
        CHECK(u.at("entries")[0].at("io") == a_reads.io);
    }
    {
        INFO("text: the load average line, -T's time, the header, the rows");
        Finished f = text->stop();
        CHECK(f.exit_code == 0);
        INFO(f.out);
        std::vector<std::string> out = lines(f.out);
        REQUIRE(out.size() >= 5);
        CHECK(std::regex_match(out[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] loadavg: "
                                                  "[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+/[0-9]+ [0-9]+")));
        CHECK(std::regex_match(out[1], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
        CHECK(std::regex_match(out[2],
                               std::regex("PID +COMM +D +MAJ +MIN +DISK +I/O +Kbytes +AVGms")));
        std::map<std::string, std::vector<std::string>> found;
        for (const std::string& line : out) {
            std::vector<std::string> f = fields(line);
            if (f.size() == 9 && f[0] == a_pid) found[f[2]] = f;
        }
        REQUIRE(found.size() == 2);
        CHECK(found["R"][1] == a_comm);
        CHECK(found["R"][3] == "7");
        CHECK(found["R"][5] == disk);
        CHECK(found["R"][6] == "11");
        CHECK(found["R"][7] == "224");
        CHECK(std::stod(found["R"][8]) > 0);
        CHECK(found["W"][6] == "5");
        CHECK(found["W"][7] == "80");
        CHECK(f.out.find('\033') == std::string::npos); // a pipe is not cleared
    }
}

TEST_CASE("biotop prints a table per interval and stops after count or -d", "[biotop]") {
    REQUIRE_BPF();
    double started = now_s();
    ToolProcess counted({tool_path("biotop"), "-o", "json", "1", "2"});
    ToolProcess timed({tool_path("biotop"), "-C", "-d", "1"});
    Finished c = counted.wait(15), d = timed.wait(15);
    CHECK(c.exit_code == 0);
    CHECK(d.exit_code == 0);
    CHECK(now_s() - started < 12);
    std::vector<json> tables = json_lines(c.out);
    CHECK(tables.size() == 2);
    for (const json& t : tables)
        CHECK(t.at("entries").is_array());
    CHECK(lines_containing(d.out, "loadavg:").size() >= 1);
}

TEST_CASE("biotop refuses a bad sort key, row count and disk", "[biotop]") {
    Finished f = run({tool_path("biotop"), "-s", "weight"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("'weight'") != std::string::npos);
    f = run({tool_path("biotop"), "-r", "many"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("'many'") != std::string::npos);
    f = run({tool_path("biotop"), "--disk", "nosuchdisk"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("'nosuchdisk'") != std::string::npos);
}

} // namespace test_biotop
