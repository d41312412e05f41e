// statsnoop against a child of this test that makes a known set of stat and
// access calls on paths of its own, some of them missing.
#include "harness.h"
#include "syscall_tool_runs.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <tuple>
#include <unistd.h>

namespace test_statsnoop {

using namespace itest;
using nlohmann::json;

namespace {

// One call the child makes: the call as statsnoop names it, the path it
// must show, its errno.
using Call = std::tuple<std::string, std::string, int>;

struct Workload {
    std::string dir = "/tmp/" + unique_token("t15-statsnoop");
    std::string present = dir + "/present";
    std::string last = dir + "/last-missing"; // the child's last call
    // A name that would move a terminal's cursor, with a byte that is not
    // UTF-8: text escapes it, JSON carries it (the byte as U+FFFD).
    std::string hostile = dir + "/evil\n\x1b[31m\xff";
    std::string hostile_text = dir + "/evil\\n\\e[31m\\xff";
    std::string hostile_json = dir + "/evil\n\x1b[31m\xef\xbf\xbd";
    std::string comm = unique_comm("stat-");

    Workload() {
        REQUIRE(mkdir(dir.c_str(), 0700) == 0);
        int fd = open(present.c_str(), O_WRONLY | O_CREAT, 0600);
        REQUIRE(fd >= 0);
        close(fd);
    }
    ~Workload() {
        unlink(present.c_str());
        rmdir(dir.c_str());
    }

    // The calls, each through syscall() so that the C library picks none
    // for us, and what statsnoop must show for each.
    // The calls as a format shows them: the hostile name as hostile_as.
    std::multiset<Call> expected(const std::string& hostile_as) const {
        std::multiset<Call> out;
        for (Call c : made()) {
            if (std::get<1>(c) == hostile) std::get<1>(c) = hostile_as;
            out.insert(c);
        }
        return out;
    }
    std::multiset<Call> made() const {
        return {{"stat", present, 0},
                {"stat", present, 0},
                {"stat", dir + "/missing-stat", ENOENT},
                {"lstat", present, 0},
                {"lstat", dir + "/missing-lstat", ENOENT},
                {"statx", present, 0},
                {"statx", dir + "/missing-statx", ENOENT},
                {"statx", dir + "/missing-statx", ENOENT},
                {"newfstatat", present, 0},
                {"fstat", present, 0},      // the descriptor's file
                {"newfstatat", present, 0}, // AT_EMPTY_PATH on the descriptor
                {"statfs", dir, 0},
                {"access", dir + "/missing-access", ENOENT},
                {"lstat", hostile, ENOENT},
                {"faccessat", "present", 0}, // relative to a directory descriptor
                {"stat", last, ENOENT}};
    }

    int calls() const {
        struct stat st;
        struct statx stx;
        char statfs_buf[256]; // struct statfs's 120 bytes and room
        auto missing = [&](long r) { return r == -1 && errno == ENOENT; };
        if (syscall(SYS_stat, present.c_str(), &st) != 0) return 1;
        if (syscall(SYS_stat, present.c_str(), &st) != 0) return 2;
        if (!missing(syscall(SYS_stat, (dir + "/missing-stat").c_str(), &st))) return 3;
        if (syscall(SYS_lstat, present.c_str(), &st) != 0) return 4;
        if (!missing(syscall(SYS_lstat, (dir + "/missing-lstat").c_str(), &st))) return 5;
        if (syscall(SYS_statx, AT_FDCWD, present.c_str(), 0, STATX_SIZE, &stx) != 0) return 6;
        for (int i = 0; i < 2; i++)
            if (!missing(syscall(SYS_statx, AT_FDCWD, (dir + "/missing-statx").c_str(),
                                 AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx)))
                return 7;
        if (syscall(SYS_newfstatat, AT_FDCWD, present.c_str(), &st, 0) != 0) return 8;
        int fd = open(present.c_str(), O_RDONLY);
        if (fd < 0 || syscall(SYS_fstat, fd, &st) != 0) return 9;
        if (syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) != 0) return 10;
        close(fd);
        if (syscall(SYS_statfs, dir.c_str(), statfs_buf) != 0) return 11;
        if (!missing(syscall(SYS_access, (dir + "/missing-access").c_str(), F_OK))) return 12;
        int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
        if (dirfd < 0 || syscall(SYS_faccessat, dirfd, "present", R_OK) != 0) return 13;
        close(dirfd);
        if (!missing(syscall(SYS_lstat, hostile.c_str(), &st))) return 14;
        if (!missing(syscall(SYS_stat, last.c_str(), &st))) return 15;
        return 0;
    }
};

} // namespace

TEST_CASE("statsnoop shows each stat and access call of a process with its path and result, on "
          "both tiers; -p, -n and -x filter",
          "[statsnoop]") {
    REQUIRE_BPF();
    Workload w;
    GatedChild child([&] { return w.calls(); }, w.comm.c_str());
    // Another process of the test's own, with the same calls on the same
    // paths under another name: what -p and -n must leave out.
    GatedChild other([&] { return w.calls(); }, "t15-other");
    SyscallToolRuns runs = run_on_both_syscall_tiers("statsnoop", child, other, w.comm, w.last);
    Finished& t = runs.text;
    std::vector<Finished>& json_runs = runs.json;
    Finished& x = runs.failed;
    std::string pid = std::to_string(child.pid());
    CHECK(t.exit_code == 0);
    CHECK(x.exit_code == 0);

    for (size_t i = 0; i < json_runs.size(); i++) {
        INFO("instance " << i << " (0: tracepoints, 1: raw sys_enter/sys_exit)");
        CHECK(json_runs[i].exit_code == 0);
        std::multiset<Call> seen;
        for (const json& e : json_lines(json_runs[i].out)) {
            INFO(e.dump());
            REQUIRE(e.at("pid") == child.pid());
            CHECK(e.at("comm") == w.comm);
            std::string call = e.at("call");
            int err = e.at("errno");
            CHECK(e.at("ret") == (err == 0 ? 0 : -1));
            CHECK(e.at("latency_ms").get<double>() >= 0);
            if (call == "fstat") CHECK(e.at("fd").get<int>() >= 0);
            if (call == "statx") {
                CHECK(e.at("dirfd") == AT_FDCWD);
                CHECK(e.at("mask") == (err ? STATX_BASIC_STATS : STATX_SIZE));
                CHECK(e.at("flags") == (err ? AT_SYMLINK_NOFOLLOW : 0));
            }
            if (call == "lstat") CHECK(e.at("flags") == AT_SYMLINK_NOFOLLOW);
            if (call == "newfstatat" && e.at("flags") == AT_EMPTY_PATH)
                CHECK(e.at("dirfd").get<int>() >= 0);
            if (call == "faccessat") {
                CHECK(e.at("dirfd").get<int>() >= 0);
                CHECK(e.at("mode") == R_OK);
            }
            if (call == "access") CHECK(e.at("mode") == F_OK);
            seen.insert({call, e.at("path").get<std::string>(), err});
        }
        CHECK(seen == w.expected(w.hostile_json));
    }

    // Text: the header, and one line per call of the child alone (-n), with
    // its PID, RET, ERR, CALL and PATH.
    CHECK(lines(t.out)[0].find("PID     COMM             RET ERR CALL       PATH") == 0);
    auto rows = lines_containing(t.out, w.comm);
    std::multiset<Call> text_seen;
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        REQUIRE(f.size() == 6);
        CHECK(f[0] == pid);
        int err = std::stoi(f[3]);
        CHECK(f[2] == (err == 0 ? "0" : "-1"));
        text_seen.insert({f[4], f[5], err});
    }
    CHECK(text_seen == w.expected(w.hostile_text));

    // -x: the failed calls alone.
    std::multiset<Call> failed_seen, failed_expected;
    for (const Call& c : w.expected(w.hostile_json))
        if (std::get<2>(c) != 0) failed_expected.insert(c);
    for (const json& e : json_lines(x.out))
        failed_seen.insert({e.at("call").get<std::string>(), e.at("path").get<std::string>(),
                            e.at("errno").get<int>()});
    CHECK(failed_seen == failed_expected);
}

} // namespace test_statsnoop
