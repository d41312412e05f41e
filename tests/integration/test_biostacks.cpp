// biostacks against O_DIRECT reads and writes that two children of the
// test make on a loop device of the test's own: every request on it is a
// child's, submitted from the child's own system call, so each child's
// requests sit under one kernel stack that runs through the block device's
// read (or write) path, with the exact count.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace test_biostacks {

using namespace itest;
using nlohmann::json;

namespace {

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("biostacks"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

// The JSON records of a stopped tool; in *skipped, the runs of its
// programs it said the kernel skipped (one was already running on that CPU:
// with a dozen instances on a loaded machine, a completion can interrupt
// the same program's run for another request).
std::vector<json> records_of(ToolProcess& p, uint64_t* skipped = nullptr) {
    Finished f = p.stop();
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    if (skipped) *skipped = skipped_on_stderr(f.err);
    return json_lines(f.out);
}

std::vector<json> of_pid(const std::vector<json>& records, pid_t pid) {
    std::vector<json> out;
    for (const json& r : records)
        if (r.at("type") == "stack" && r.at("pid") == pid) out.push_back(r);
    return out;
}

bool has_frame(const json& record, const std::string& symbol) {
    for (const json& f : record.at("kernel_stack"))
        if (f.at("symbol").is_string() && f.at("symbol") == symbol) return true;
    return false;
}

// What the children do: A reads 7 x 4 KiB, B writes 4 x 8 KiB.
constexpr int a_reads = 7, b_writes = 4;

// One child's records: one stack, through the wanted function, the count
// exact, but for as many runs as the tool said the kernel skipped.
void check_count(const json& value, int count, uint64_t skipped) {
    CHECK(value.get<uint64_t>() <= static_cast<uint64_t>(count));
    CHECK(value.get<uint64_t>() + skipped >= static_cast<uint64_t>(count));
}

void check_child(const std::vector<json>& records, pid_t pid, const std::string& comm,
                 const std::string& function, int count, const std::string& disk,
                 uint64_t skipped = 0) {
    std::vector<json> mine = of_pid(records, pid);
    INFO(json(mine).dump() << ", skipped runs " << skipped);
    REQUIRE(mine.size() == 1);
    const json& r = mine[0];
    CHECK(r.at("comm") == comm);
    check_count(r.at("count"), count, skipped);
    CHECK(r.at("disk") == disk);
    CHECK(r.at("major") == 7);
    CHECK(r.at("total_us").get<uint64_t>() > 0);
    check_count(r.at("histogram").at("total"), count, skipped);
    CHECK(r.at("histogram").at("unit") == "usecs");
    CHECK(r.at("kernel_stack_missed") == false);
    CHECK(has_frame(r, function));
    CHECK(has_frame(r, "submit_bio_noacct_nocheck"));
    // The probe's own frames are dropped: the stack starts in the block layer.
    CHECK(!r.at("kernel_stack").at(0).at("symbol").get<std::string>().starts_with("bpf_"));
}

} // namespace

TEST_CASE("biostacks sums each child's requests under its read or write path's stack, exactly, "
          "on every tier, and its filters keep what they name",
          "[biostacks]") {
    REQUIRE_BPF();
    LoopDisk loop(4 << 20);
    if (loop.path().empty()) SKIP_CASE("cannot set up a loop device (losetup)");
    ScratchFile file(1 << 20);
    REQUIRE(file.ok());
    std::string other_disk = disk_of(file.path());
    REQUIRE(!other_disk.empty());
    std::string disk = loop.name(), dev = loop.path();
    std::string a_comm = unique_comm("bstkA"), b_comm = unique_comm("bstkB");
    GatedChild a([&] { return direct_reads(dev, 4096, a_reads) ? 0 : 1; }, a_comm.c_str());
    GatedChild b([&] { return direct_writes(dev, 8192, b_writes) ? 0 : 1; }, b_comm.c_str());
    TestCgroup cgroup(unique_token("biostacks"));
    if (cgroup.path.empty()) SKIP_CASE("no writable cgroup v2 mount");
    REQUIRE(cgroup.add(a.pid()));
    std::string a_pid = std::to_string(a.pid()), b_pid = std::to_string(b.pid());

    auto all = start({"--disk", disk, "-o", "json"});
    auto text = start({"--disk", disk, "-n", a_comm});
    auto by_pid = start({"-p", a_pid, "-o", "json"});
    auto by_tid = start({"-t", b_pid, "--btf", "/sys/kernel/btf/vmlinux", "-o", "json"});
    auto by_cgroup = start({"-c", cgroup.path, "-o", "json"});
    // --disk: -n is applied in user space, so without it every stack on the
    // host would share the stack map (and could take the bucket of B's).
    auto by_name = start({"-n", b_comm, "--disk", disk, "-o", "json"});
    auto not_uid = start({"-u", "65534", "--disk", disk, "-o", "json"});
    auto by_uid = start({"-u", "0", "--disk", disk, "--stack-storage-size", "1024", "-o", "json"});
    auto other = start({"--disk", other_disk, "-o", "json"});
    auto msecs = start({"-m", "-p", a_pid, "-o", "json"});
    auto raw = start({"-v", "--disk", disk, "-o", "json"}, "tp_btf");
    auto tracefs = start({"-v", "--disk", disk, "-o", "json"}, "tp_btf,raw_tp");
    std::vector<ToolProcess*> tools = {all.get(),       text.get(),    by_pid.get(),  by_tid.get(),
                                       by_cgroup.get(), by_name.get(), not_uid.get(), by_uid.get(),
                                       other.get(),     raw.get(),     tracefs.get()};
    for (ToolProcess* t : tools)
        REQUIRE(t->wait_attached());
    REQUIRE(a.run() == 0);
    REQUIRE(b.run() == 0);

    {
        INFO("JSON: A's reads under blkdev_read_iter, B's writes under blkdev_write_iter");
        uint64_t skipped = 0;
        std::vector<json> r = records_of(*all, &skipped);
        check_child(r, a.pid(), a_comm, "blkdev_read_iter", a_reads, disk, skipped);
        check_child(r, b.pid(), b_comm, "blkdev_write_iter", b_writes, disk, skipped);
    }
    for (auto [tool, tier] : {std::pair(raw.get(), "raw_tp:block_rq_issue"),
                              std::pair(tracefs.get(), "tracepoint:block:block_rq_issue")}) {
        INFO("the lower tiers: " << tier);
        Finished f = tool->stop();
        INFO(f.err);
        CHECK(f.exit_code == 0);
        CHECK(f.err.find(tier) != std::string::npos);
        std::vector<json> r = json_lines(f.out);
        uint64_t skipped = skipped_on_stderr(f.err);
        check_child(r, a.pid(), a_comm, "blkdev_read_iter", a_reads, disk, skipped);
        check_child(r, b.pid(), b_comm, "blkdev_write_iter", b_writes, disk, skipped);
    }
    {
        INFO("-p and -c: A's stack and no other; -t and -n: B's; -u 0: both");
        for (ToolProcess* p : {by_pid.get(), by_cgroup.get()}) {
            uint64_t skipped = 0;
            std::vector<json> r = records_of(*p, &skipped);
            check_child(r, a.pid(), a_comm, "blkdev_read_iter", a_reads, disk, skipped);
            CHECK(of_pid(r, b.pid()).empty());
        }
        for (ToolProcess* p : {by_tid.get(), by_name.get()}) {
            uint64_t skipped = 0;
            std::vector<json> r = records_of(*p, &skipped);
            check_child(r, b.pid(), b_comm, "blkdev_write_iter", b_writes, disk, skipped);
            CHECK(of_pid(r, a.pid()).empty());
        }
        uint64_t skipped = 0;
        std::vector<json> r = records_of(*by_uid, &skipped);
        check_child(r, a.pid(), a_comm, "blkdev_read_iter", a_reads, disk, skipped);
        check_child(r, b.pid(), b_comm, "blkdev_write_iter", b_writes, disk, skipped);
    }
    {
        INFO("-m: the histogram in milliseconds, the same count");
        uint64_t skipped = 0;
        std::vector<json> r = of_pid(records_of(*msecs, &skipped), a.pid());
        REQUIRE(r.size() == 1);
        CHECK(r[0].at("histogram").at("unit") == "msecs");
        check_count(r[0].at("histogram").at("total"), a_reads, skipped);
        check_count(r[0].at("count"), a_reads, skipped);
    }
    {
        INFO("-u nobody and another --disk: none of the children's");
        for (ToolProcess* p : {not_uid.get(), other.get()}) {
            std::vector<json> r = records_of(*p);
            CHECK(of_pid(r, a.pid()).empty());
            CHECK(of_pid(r, b.pid()).empty());
        }
    }
    {
        INFO("text: the head line, the frames, the count and the histogram");
        Finished f = text->stop();
        CHECK(f.exit_code == 0);
        INFO(f.out);
        std::vector<std::string> out = lines(f.out);
        std::string head = a_comm + " (" + a_pid + ") on " + disk;
        auto it = std::find(out.begin(), out.end(), head);
        REQUIRE(it != out.end());
        bool frame = false, count = false, hist = false;
        for (; it != out.end(); ++it) {
            frame = frame || *it == "    blkdev_read_iter";
            count = count || it->starts_with("    count 7, total ");
            hist = hist ||
                   it->find("usecs               : count    distribution") != std::string::npos;
        }
        CHECK(frame);
        CHECK(count);
        CHECK(hist);
        CHECK(f.out.find(b_comm) == std::string::npos);
    }
}

TEST_CASE("biostacks -d stops after that long by itself; bad values exit 2 naming them",
          "[biostacks]") {
    REQUIRE_BPF();
    double started = now_s();
    Finished r = run({tool_path("biostacks"), "-d", "1", "-o", "json"}, 15);
    CHECK(r.exit_code == 0);
    CHECK(now_s() - started < 12);
    for (const json& j : json_lines(r.out))
        CHECK(j.at("type").is_string());
    Finished disk = run({tool_path("biostacks"), "--disk", "nosuchdisk"});
    CHECK(disk.exit_code == 2);
    CHECK(disk.err.find("'nosuchdisk'") != std::string::npos);
    Finished size = run({tool_path("biostacks"), "--stack-storage-size", "none"});
    CHECK(size.exit_code == 2);
    CHECK(size.err.find("'none'") != std::string::npos);
}

} // namespace test_biostacks
