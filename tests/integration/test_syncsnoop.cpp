// syncsnoop against a child of this test that makes a known set of sync calls
// on a file of its own.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_syncsnoop {

using namespace itest;
using nlohmann::json;

namespace {

// The calls the child makes, in order, and how many of each syncsnoop must
// show: msync(MS_ASYNC) is not a sync and must not show.
const std::map<std::string, int> made = {{"fsync", 3}, {"fdatasync", 2}, {"sync_file_range", 1},
                                         {"msync", 1}, {"syncfs", 1},    {"sync", 1}};

// A child named comm that writes path and syncs it as `made` says, then a
// failed fsync of a descriptor that is not open (EBADF), then exits.
pid_t sync_child(const std::string& comm, const std::string& path) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_NAME, comm.c_str());
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0) _exit(1);
    for (int i = 0; i < 3; i++)
        if (pwrite(fd, "x", 1, i) != 1 || fsync(fd) != 0) _exit(2);
    for (int i = 0; i < 2; i++)
        if (fdatasync(fd) != 0) _exit(3);
    if (sync_file_range(fd, 0, 4096, SYNC_FILE_RANGE_WRITE) != 0) _exit(4);
    void* map = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) _exit(5);
    static_cast<char*>(map)[0] = 'y';
    if (msync(map, 4096, MS_ASYNC) != 0 || msync(map, 4096, MS_SYNC) != 0) _exit(6);
    if (syncfs(fd) != 0) _exit(7);
    sync();
    close(fd);
    if (fsync(fd) == 0) _exit(8); // closed now: EBADF
    _exit(0);
}

struct Workload {
    std::string dir = "/tmp/" + unique_token("syncsnoop");
    std::string path = dir + "/data";
    std::string comm = unique_comm("sync-");
    pid_t pid = -1;

    Workload() { REQUIRE(mkdir(dir.c_str(), 0700) == 0); }
    ~Workload() {
        unlink(path.c_str());
        rmdir(dir.c_str());
    }
    void run() {
        pid = sync_child(comm, path);
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }
};

} // namespace

TEST_CASE("syncsnoop shows each sync call of a process with its file, latency and result",
          "[syncsnoop]") {
    REQUIRE_BPF();
    Workload w;
    ToolProcess text({tool_path("syncsnoop"), "-n", w.comm});
    ToolProcess jsonl({tool_path("syncsnoop"), "-o", "json", "-n", w.comm});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    w.run();
    // The failed fsync is the child's last call: once it shows, all did.
    REQUIRE(jsonl.wait_for_output("\"errno\":9"));
    REQUIRE(text.wait_for_output(" 9 "));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);

    std::map<std::string, int> seen;
    for (const json& e : json_lines(j.out)) {
        REQUIRE(e.at("pid") == w.pid);
        CHECK(e.at("comm") == w.comm);
        std::string call = e.at("call");
        seen[call]++;
        CHECK(e.at("latency_ms").get<double>() >= 0);
        if (e.at("errno") == 9) {
            CHECK(call == "fsync");
            CHECK(e.at("file").is_null()); // no file behind a closed descriptor
            continue;
        }
        CHECK(e.at("errno") == 0);
        if (call == "sync" || call == "msync") {
            CHECK(e.at("fd").is_null());
        } else {
            CHECK(e.at("fd").get<int>() >= 0);
            CHECK(e.at("file") == w.path);
        }
        if (call == "msync") CHECK(e.at("flags") == MS_SYNC);
        if (call == "sync_file_range") CHECK(e.at("flags") == SYNC_FILE_RANGE_WRITE);
    }
    std::map<std::string, int> expected = made;
    expected["fsync"]++; // the failed one
    CHECK(seen == expected);

    auto rows = lines_containing(t.out, w.comm);
    CHECK(rows.size() == 10);
    CHECK(lines(t.out)[0].find("PID     COMM             CALL") == 0);
    int with_path = 0;
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        REQUIRE(f.size() >= 5);
        CHECK(f[0] == std::to_string(w.pid));
        if (f.back() == w.path) with_path++;
    }
    CHECK(with_path == 7); // fsync 3, fdatasync 2, sync_file_range, syncfs
}

// A child named comm that dirties 16 MiB of a file on disk and fsyncs it
// (tens of milliseconds), then fdatasyncs it again with nothing left to
// write (microseconds): one call on each side of --min 2.
pid_t slow_and_fast_child(const std::string& comm, const std::string& path) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_NAME, comm.c_str());
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) _exit(1);
    std::string chunk(1 << 20, 'z');
    for (int i = 0; i < 16; i++)
        if (write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) _exit(2);
    if (fsync(fd) != 0 || fdatasync(fd) != 0) _exit(3);
    close(fd);
    unlink(path.c_str());
    _exit(0);
}

TEST_CASE("syncsnoop -x shows only the failed call, --min only the slow ones", "[syncsnoop]") {
    REQUIRE_BPF();
    Workload w;
    constexpr double min_ms = 2;
    ToolProcess failed({tool_path("syncsnoop"), "-x", "-n", w.comm});
    ToolProcess slow({tool_path("syncsnoop"), "--min", "2", "-o", "json", "-n", w.comm});
    ToolProcess all({tool_path("syncsnoop"), "-o", "json", "-n", w.comm});
    REQUIRE(failed.wait_attached());
    REQUIRE(slow.wait_attached());
    REQUIRE(all.wait_attached());
    std::string disk_file = "/var/tmp/" + unique_token("syncsnoop-slow");
    pid_t slow_pid = slow_and_fast_child(w.comm, disk_file);
    int status = 0;
    REQUIRE(waitpid(slow_pid, &status, 0) == slow_pid);
    REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    w.run();
    REQUIRE(failed.wait_for_output(w.comm));
    // The workload's failed fsync is the last call: once the unfiltered
    // instance shows it, every instance was handed everything, and each
    // prints all it was handed before it exits.
    REQUIRE(all.wait_for_output("\"errno\":9"));
    Finished f = failed.stop();
    Finished s = slow.stop();
    Finished a = all.stop();
    auto shown = lines_containing(f.out, w.comm);
    REQUIRE(shown.size() == 1);
    CHECK(fields(shown[0])[2] == "fsync");
    CHECK(fields(shown[0])[4] == "9");

    // --min keeps what the unfiltered instance timed at or above 2 ms and
    // drops what it timed below. The instances time each call apart (their
    // probes run one after the other), so a call within 0.5 ms of the
    // threshold may fall either way and is not judged.
    std::vector<json> every = json_lines(a.out), kept = json_lines(s.out);
    CHECK(every.size() == 12); // the 10 calls above, the slow fsync and the fast fdatasync
    auto kept_call = [&](const json& e) {
        for (const json& k : kept)
            if (k.at("pid") == e.at("pid") && k.at("call") == e.at("call") &&
                k.at("fd") == e.at("fd") && k.at("errno") == e.at("errno") &&
                k.at("file") == e.at("file"))
                return true;
        return false;
    };
    int above = 0, below = 0;
    for (const json& e : every) {
        double ms = e.at("latency_ms").get<double>();
        INFO(e.dump());
        if (ms >= min_ms + 0.5) {
            CHECK(kept_call(e));
            above++;
        } else if (ms < min_ms - 0.5) {
            // Calls alike in every field (the three fsyncs) are judged by count below.
            if (e.at("pid") == slow_pid) CHECK_FALSE(kept_call(e));
            below++;
        }
    }
    for (const json& k : kept)
        CHECK(k.at("latency_ms").get<double>() >= min_ms);
    CHECK(kept.size() <= every.size() - below);
    CHECK(kept.size() >= static_cast<size_t>(above));
    // The test's own calls put one on each side.
    CHECK(above >= 1);
    CHECK(below >= 1);
}

TEST_CASE("syncsnoop rejects a bad --min", "[syncsnoop]") {
    Finished r = run({tool_path("syncsnoop"), "--min", "abc"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'abc'") != std::string::npos);
}

} // namespace test_syncsnoop
