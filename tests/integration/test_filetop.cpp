// filetop against a child of this test that reads and writes known byte
// counts to two files of a scratch directory, through every call shape of
// the families (read, pread64, readv, preadv, preadv2 and their writes), and
// through a pipe: its rows show exactly those calls and bytes. The pipe is
// counted only with -a; another process's filter shows nothing of the child.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace test_filetop {

using namespace itest;
using nlohmann::json;

namespace {

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("filetop"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

json only_record(ToolProcess& p) {
    Finished f = p.stop();
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    return records[0];
}

// The entries of one PID (and file name, when given).
std::vector<json> rows_of(const json& record, pid_t pid, const std::string& file = "") {
    std::vector<json> out;
    for (const json& e : record.at("entries"))
        if (e.at("pid") == pid && (file.empty() || e.at("file") == file)) out.push_back(e);
    return out;
}

const std::string hostile_name = "\x1b[2J\nbad\xff";

// The child's work: on data.bin 4 writes (write, pwrite64, writev, pwritev2)
// of 1000 + 2000 + 3000 + 500 bytes, then 5 reads (read, pread64, readv,
// preadv, preadv2) of 100 + 200 + 300 + 400 + 0 (at its end) bytes; on
// log.txt 7 writes of 10 bytes; through a pipe 3 writes and 3 reads of 64.
int work(const std::string& dir) {
    static char buf[8192];
    std::memset(buf, 'x', sizeof buf);
    int fd = open((dir + "/data.bin").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int log = open((dir + "/log.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || log < 0) return 1;
    struct iovec two[2] = {{buf, 1000}, {buf, 2000}};
    struct iovec one[1] = {{buf, 500}};
    if (write(fd, buf, 1000) != 1000) return 2;
    if (pwrite(fd, buf, 2000, 1000) != 2000) return 3;
    if (lseek(fd, 3000, SEEK_SET) != 3000) return 4;
    if (writev(fd, two, 1) != 1000 || pwritev2(fd, two + 1, 1, 4000, 0) != 2000) return 5;
    if (pwritev(fd, one, 1, 6000) != 500) return 6; // 6500 bytes in the file
    // Bytes so far: 1000 + 2000 + 1000 + 2000 + 500 = 6500 in 5 writes.
    struct iovec r1[1] = {{buf, 300}};
    struct iovec r2[1] = {{buf, 400}};
    if (lseek(fd, 0, SEEK_SET) != 0) return 7;
    if (read(fd, buf, 100) != 100) return 8;
    if (pread(fd, buf, 200, 100) != 200) return 9;
    if (readv(fd, r1, 1) != 300) return 10;
    if (preadv(fd, r2, 1, 6100) != 400) return 11;
    if (lseek(fd, 0, SEEK_END) != 6500) return 12;
    if (preadv2(fd, r2, 1, -1, 0) != 0) return 13; // at the end: a read of 0 bytes
    for (int i = 0; i < 7; i++)
        if (write(log, buf, 10) != 10) return 14;
    // A hostile name: escaped in text, exact in JSON.
    int evil = open((dir + "/" + hostile_name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (evil < 0 || write(evil, buf, 1) != 1) return 18;
    close(evil);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return 15;
    for (int i = 0; i < 3; i++)
        if (write(p[1], buf, 64) != 64) return 16;
    for (int i = 0; i < 3; i++)
        if (read(p[0], buf, 64) != 64) return 17;
    return 0;
}

void check_data(const json& record, pid_t pid) {
    INFO(record.dump());
    std::vector<json> data = rows_of(record, pid, "data.bin");
    REQUIRE(data.size() == 1);
    const json& d = data[0];
    CHECK(d.at("comm") == "t16filetopper");
    CHECK(d.at("writes") == 5);
    CHECK(d.at("write_bytes") == 6500);
    CHECK(d.at("reads") == 5);
    CHECK(d.at("read_bytes") == 1000);
    CHECK(d.at("type") == "R");
    CHECK(d.at("inode").get<uint64_t>() > 0);
    std::vector<json> log = rows_of(record, pid, "log.txt");
    REQUIRE(log.size() == 1);
    CHECK(log[0].at("writes") == 7);
    CHECK(log[0].at("write_bytes") == 70);
    CHECK(log[0].at("reads") == 0);
    CHECK(log[0].at("read_bytes") == 0);
    std::vector<json> evil = rows_of(record, pid, "\x1b[2J\nbad\xef\xbf\xbd");
    REQUIRE(evil.size() == 1);
    CHECK(evil[0].at("writes") == 1);
    CHECK(evil[0].at("write_bytes") == 1);
    CHECK(record.at("write_bytes").get<uint64_t>() >= 6571);
    CHECK(record.at("files").get<uint64_t>() >= 2);
    CHECK(record.at("interval_s").get<double>() > 0);
}

} // namespace

TEST_CASE("filetop counts a process's reads and writes per file exactly, pipes with -a, with "
          "its filters and on both tiers",
          "[filetop]") {
    REQUIRE_BPF();
    std::string dir = "/tmp/" + unique_token("filetop");
    REQUIRE(std::filesystem::create_directory(dir));
    GatedChild idle([] { return 0; });
    GatedChild actor([dir] { return work(dir); }, "t16filetopper");
    std::string pid = std::to_string(actor.pid()), other = std::to_string(idle.pid());

    auto by_pid = start({"-o", "json", "-r", "0", "-p", pid, "600"});
    auto all = start({"-a", "-o", "json", "-r", "0", "-p", pid, "600"});
    auto not_pid = start({"-a", "-o", "json", "-r", "0", "-p", other, "600"});
    auto top = start({"-o", "json", "-s", "wbytes", "-r", "1", "-p", pid, "600"});
    auto text = start({"-C", "-T", "-r", "0", "-p", pid, "600"});
    auto raw = start({"-a", "-o", "json", "-r", "0", "-p", pid, "600"}, "tracepoint");
    for (ToolProcess* t :
         {by_pid.get(), all.get(), not_pid.get(), top.get(), text.get(), raw.get()})
        REQUIRE(t->wait_attached());
    REQUIRE(actor.run() == 0);

    // Regular files only by default: the pipe is not there.
    json r = only_record(*by_pid);
    check_data(r, actor.pid());
    for (const json& e : r.at("entries")) {
        CHECK(e.at("pid") == actor.pid());
        CHECK(e.at("type") == "R");
    }
    // -a: the pipe too, both ends on one inode: 3 writes and 3 reads of 64.
    for (ToolProcess* t : {all.get(), raw.get()}) {
        json a = only_record(*t);
        check_data(a, actor.pid());
        bool pipe_seen = false;
        for (const json& e : rows_of(a, actor.pid()))
            if (e.at("file").get<std::string>().rfind("pipe:[", 0) == 0) {
                CHECK(e.at("type") == "O");
                INFO(e.dump());
                if (e.at("writes") == 3 && e.at("reads") == 3 && e.at("write_bytes") == 192 &&
                    e.at("read_bytes") == 192)
                    pipe_seen = true;
            }
        CHECK(pipe_seen);
    }
    // The other side of -p: nothing of the child.
    json n = only_record(*not_pid);
    CHECK(rows_of(n, actor.pid()).empty());
    // -s wbytes -r 1: data.bin, the most bytes written.
    json t = only_record(*top);
    REQUIRE(t.at("entries").size() == 1);
    CHECK(t.at("entries")[0].at("file") == "data.bin");
    CHECK(t.at("files").get<uint64_t>() >= 2);

    // Text: the load average line, -T's time, the header, the rows.
    Finished f = text->stop();
    CHECK(f.exit_code == 0);
    INFO(f.out);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() >= 6);
    CHECK(std::regex_match(out[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] loadavg: .*")));
    CHECK(std::regex_match(out[1], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    CHECK(std::regex_match(out[2], std::regex("PID +COMM +READS +WRITES +R_Kb +W_Kb +T +FILE")));
    CHECK(std::regex_match(out[3], std::regex(pid + " +t16filetopper +5 +5 +0 +6 +R +data.bin")));
    CHECK(std::regex_match(out[4], std::regex(pid + " +t16filetopper +0 +7 +0 +0 +R +log.txt")));
    CHECK(std::regex_match(
        out[5], std::regex(pid + " +t16filetopper +0 +1 +0 +0 +R +\\\\e\\[2J\\\\nbad\\\\xff")));
    CHECK(f.out.find('\033') == std::string::npos); // a pipe is not cleared, names escaped
    std::filesystem::remove_all(dir);
}

TEST_CASE("filetop prints a table per interval and stops after count", "[filetop]") {
    REQUIRE_BPF();
    double start = now_s();
    ToolProcess counted({tool_path("filetop"), "-o", "json", "-r", "3", "1", "2"});
    Finished f = counted.wait(30);
    double wall = now_s() - start;
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records)
        CHECK(r.at("entries").size() <= 3);
}

TEST_CASE("filetop refuses a bad sort key and row count", "[filetop]") {
    Finished f = run({tool_path("filetop"), "-s", "weight"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("weight") != std::string::npos);
    f = run({tool_path("filetop"), "-r", "many"});
    CHECK(f.exit_code == 2);
    CHECK(f.err.find("many") != std::string::npos);
}

} // namespace test_filetop
