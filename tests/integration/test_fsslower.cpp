// fsslower (and its ext4slower name) against file I/O this test does itself:
// a slow fsync, reads at known offsets, and a file on tmpfs that the ext4
// filter must hide.
#include "harness.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <vector>

namespace test_fsslower {

using namespace itest;
using nlohmann::json;

namespace {

constexpr long ext4_magic = 0xEF53;
constexpr long tmpfs_magic = 0x01021994;

bool on_file_system(const std::string& dir, long magic) {
    struct statfs st {};
    return statfs(dir.c_str(), &st) == 0 && st.f_type == magic;
}

std::vector<json> json_events_for(const std::string& text, const std::string& file) {
    std::vector<json> out;
    for (const std::string& line : lines(text)) {
        json j = json::parse(line); // throws if invalid
        if (j.value("file", "") == file) out.push_back(j);
    }
    return out;
}

// Writes size bytes (in 1 MiB writes) and fsyncs, so the fsync has real
// work to do; returns the fd, open.
int write_then_fsync(const std::string& path, size_t size) {
    int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    std::vector<char> block(1 << 20, 'x');
    for (size_t done = 0; done < size; done += block.size())
        REQUIRE(write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
    REQUIRE(fsync(fd) == 0);
    return fd;
}

void small_file(const std::string& path, size_t size) {
    int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    std::string data(size, 'y');
    REQUIRE(write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    close(fd);
}

void read_whole(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
}

} // namespace

TEST_CASE("fsslower shows a slow fsync with the file's name, type S and its latency",
          "[fsslower]") {
    REQUIRE_BPF();
    std::string name = unique_token("fsslower-fsync");
    std::string path = "/tmp/" + name;
    ToolProcess text({tool_path("fsslower"), "--min", "0", "-p", self_pid()});
    ToolProcess jsonl({tool_path("fsslower"), "--min", "0", "-p", self_pid(), "-o", "json"});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    int fd = write_then_fsync(path, 32 << 20);
    close(fd);
    REQUIRE(text.wait_for_output(name));
    REQUIRE(jsonl.wait_for_output(name));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    unlink(path.c_str());
    CHECK(t.exit_code == 0);
    CHECK(lines(t.out).at(0).rfind(
              "TIME     COMM             PID     T BYTES   OFF_KB   LAT(ms) FILENAME", 0) == 0);

    std::vector<std::string> syncs;
    for (const std::string& line : lines_containing(t.out, name)) {
        std::istringstream fields(line);
        std::string time, comm, pid, op, bytes, off_kb, lat, file;
        fields >> time >> comm >> pid >> op >> bytes >> off_kb >> lat >> file;
        CHECK(pid == self_pid());
        CHECK(file == name);
        if (op == "S") {
            syncs.push_back(line);
            CHECK(std::stod(lat) > 0);
        }
    }
    REQUIRE(syncs.size() == 1);

    auto events = json_events_for(j.out, name);
    int writes = 0, fsyncs = 0, opens = 0;
    for (const json& e : events) {
        CHECK(e.at("pid") == getpid());
        if (on_file_system("/tmp", ext4_magic)) CHECK(e.at("fs_type") == "ext4");
        if (e.at("op") == "S") {
            fsyncs++;
            CHECK(e.at("syscall") == "fsync");
            CHECK(e.at("latency_ms").get<double>() > 0);
            CHECK(e.at("bytes").is_null());
            CHECK(e.at("errno") == 0);
        } else if (e.at("op") == "W") {
            CHECK(e.at("bytes") == 1 << 20);
            CHECK(e.at("offset") == static_cast<int64_t>(writes) << 20);
            writes++;
        } else if (e.at("op") == "O") {
            opens++;
            CHECK(e.at("syscall") == "openat");
        }
    }
    CHECK(fsyncs == 1);
    CHECK(opens == 1);
    CHECK(writes == 32);
}

TEST_CASE("fsslower shows a read's bytes and offset", "[fsslower]") {
    REQUIRE_BPF();
    std::string name = unique_token("fsslower-pread");
    std::string path = "/tmp/" + name;
    small_file(path, 3 << 20);
    ToolProcess p({tool_path("fsslower"), "--min", "0", "-p", self_pid()});
    REQUIRE(p.wait_attached());
    int fd = open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    std::vector<char> buf(8192);
    REQUIRE(pread(fd, buf.data(), buf.size(), 2 << 20) == 8192);
    close(fd);
    REQUIRE(p.wait_for_output(name));
    Finished r = p.stop();
    unlink(path.c_str());
    bool found = false;
    for (const std::string& line : lines_containing(r.out, name)) {
        std::istringstream fields(line);
        std::string time, comm, pid, op, bytes, off_kb, lat, file;
        fields >> time >> comm >> pid >> op >> bytes >> off_kb >> lat >> file;
        if (op != "R") continue;
        found = true;
        CHECK(bytes == "8192");
        CHECK(off_kb == "2048");
    }
    CHECK(found);
}

TEST_CASE("ext4slower traces ext4 files only, and --type picks another file system", "[fsslower]") {
    REQUIRE_BPF();
    if (!on_file_system("/tmp", ext4_magic) || !on_file_system("/dev/shm", tmpfs_magic)) {
        SKIP_CASE("needs /tmp on ext4 and /dev/shm on tmpfs");
    }
    std::string token = unique_token("ext4slower");
    std::string on_ext4 = "/tmp/" + token + "-ext4";
    std::string on_tmpfs = "/dev/shm/" + token + "-tmpfs";
    small_file(on_ext4, 10000);
    small_file(on_tmpfs, 10000);
    ToolProcess ext4({tool_path("ext4slower"), "--min", "0", "-p", self_pid()});
    ToolProcess tmpfs({tool_path("fsslower"), "--type", "tmpfs", "--min", "0", "-p", self_pid()});
    REQUIRE(ext4.wait_attached());
    REQUIRE(tmpfs.wait_attached());
    read_whole(on_tmpfs);
    read_whole(on_ext4);
    REQUIRE(ext4.wait_for_output(token + "-ext4"));
    REQUIRE(tmpfs.wait_for_output(token + "-tmpfs"));
    Finished e = ext4.stop();
    Finished t = tmpfs.stop();
    unlink(on_ext4.c_str());
    unlink(on_tmpfs.c_str());
    CHECK(lines_containing(e.out, token + "-tmpfs").empty());
    CHECK(lines_containing(t.out, token + "-ext4").empty());
    // An open, three reads of data and one at end of file.
    CHECK(lines_containing(e.out, token + "-ext4").size() == 5);
}

TEST_CASE("fsslower --min, or the classic positional min_ms, hides calls faster than the "
          "threshold",
          "[fsslower]") {
    REQUIRE_BPF();
    std::string name = unique_token("fsslower-min");
    std::string path = "/tmp/" + name;
    small_file(path, 4096);
    read_whole(path); // cached now: the next reads take microseconds
    // `fsslower 0` as users of the classic *slower tools type it: were the
    // 0 ignored, the default 10 ms would hide these reads.
    ToolProcess all({tool_path("fsslower"), "0", "-p", self_pid()});
    ToolProcess slow({tool_path("fsslower"), "--min", "2000", "-p", self_pid()});
    REQUIRE(all.wait_attached());
    REQUIRE(slow.wait_attached());
    read_whole(path);
    REQUIRE(all.wait_for_output(name));
    Finished a = all.stop();
    Finished s = slow.stop();
    unlink(path.c_str());
    CHECK(!lines_containing(a.out, name).empty());
    CHECK(lines_containing(s.out, name).empty());
    CHECK(s.exit_code == 0);
}

TEST_CASE("fsslower rejects a bad --type or --min with exit 2 naming the value", "[fsslower]") {
    Finished bad_type = run({tool_path("fsslower"), "--type", "ext4;rm"});
    CHECK(bad_type.exit_code == 2);
    CHECK(bad_type.err.find("'ext4;rm'") != std::string::npos);
    Finished bad_min = run({tool_path("ext4slower"), "--min", "-3"});
    CHECK(bad_min.exit_code == 2);
    CHECK(bad_min.err.find("'-3'") != std::string::npos);
    Finished bad_positional = run({tool_path("ext4slower"), "soon"});
    CHECK(bad_positional.exit_code == 2);
    CHECK(bad_positional.err.find("'soon'") != std::string::npos);
    Finished twice = run({tool_path("ext4slower"), "--min", "1", "5"});
    CHECK(twice.exit_code == 2);
    CHECK(twice.err.find("--min MS or min_ms, once") != std::string::npos);
}

TEST_CASE("ext4slower names itself in its messages, standalone and through corescope",
          "[fsslower]") {
    // The aliases are links to fsslower (or to corescope): the name the user
    // typed is the one the messages give.
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{tool_path("ext4slower")},
          std::vector<std::string>{tool_path("corescope"), "ext4slower"}}) {
        std::vector<std::string> extra = command;
        extra.insert(extra.end(), {"1", "2"});
        INFO(extra[0] << " " << extra.back());
        Finished r = run(extra);
        CHECK(r.exit_code == 2);
        CHECK(r.err == "ext4slower: unexpected argument '2'\n"
                       "Try 'ext4slower --help' for more information.\n");
        std::vector<std::string> help = command;
        help.push_back("--help");
        CHECK(run(help).out.rfind("Usage: ext4slower [OPTIONS] [min_ms]\n", 0) == 0);
        std::vector<std::string> version = command;
        version.push_back("--version");
        CHECK(run(version).out.rfind("ext4slower (corescope) ", 0) == 0);
    }
    // A positional minimum is taken, and --dry-run still only loads.
    CHECK(run({tool_path("ext4slower"), "0", "--dry-run"}, 60).exit_code ==
          (bpf_unavailable_reason().empty() ? 0 : 1));
}

} // namespace test_fsslower
