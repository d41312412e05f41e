// filegone against a child of this test that deletes and renames files of
// its own scratch directory by each of the calls, one of them to a hostile
// name, and fails one deletion.
#include "harness.h"
#include "json_lines.h"
#include "syscall_tool_runs.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <fcntl.h>
#include <linux/fs.h>
#include <nlohmann/json.hpp>
#include <set>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <tuple>
#include <unistd.h>

namespace test_filegone {

using namespace itest;
using nlohmann::json;

namespace {

// One call as filegone shows it: action, call, name, new name ("" for a
// deletion), errno.
using Gone = std::tuple<std::string, std::string, std::string, std::string, int>;

bool touch(const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return false;
    close(fd);
    return true;
}

struct Workload {
    std::string dir;
    std::string last; // the child's last name: deleted after a failed deletion of it
    // A name that would move a terminal's cursor, with a byte that is not
    // UTF-8: text escapes it, JSON carries it (the byte as U+FFFD).
    std::string hostile, hostile_text, hostile_json;

    explicit Workload(const std::string& prefix)
        : dir("/tmp/" + unique_token(prefix)), last(dir + "/last-gone"),
          hostile(dir + "/evil\n\x1b[31m\xff"), hostile_text(dir + "/evil\\n\\e[31m\\xff"),
          hostile_json(dir + "/evil\n\x1b[31m\xef\xbf\xbd") {
        REQUIRE(mkdir(dir.c_str(), 0700) == 0);
    }
    ~Workload() {
        for (const char* name : {"a", "b", "c", "d", "e", "f", "last-gone"})
            unlink((dir + "/" + name).c_str());
        unlink(hostile.c_str());
        rmdir((dir + "/sub").c_str());
        rmdir(dir.c_str());
    }

    // What the child does, each call through syscall() so that the C
    // library picks none for us.
    std::set<Gone> expected(const std::string& hostile_as) const {
        return {{"DELETE", "unlink", dir + "/a", "", 0},
                {"RENAME", "rename", dir + "/b", dir + "/c", 0},
                {"DELETE", "unlinkat", "c", "", 0}, // relative to a directory descriptor
                {"DELETE", "rmdir", dir + "/sub", "", 0},
                {"RENAME", "renameat", "d", "e", 0},
                {"RENAME", "renameat2", dir + "/e", hostile_as, 0},
                {"DELETE", "unlink", hostile_as, "", 0},
                {"DELETE", "unlinkat", dir + "/f", "", 0},
                {"DELETE", "unlink", last, "", ENOENT},
                {"DELETE", "unlink", last, "", 0}};
    }

    int calls() const {
        if (!touch(dir + "/a") || !touch(dir + "/b") || !touch(dir + "/d") || !touch(dir + "/f") ||
            mkdir((dir + "/sub").c_str(), 0700) != 0)
            return 1;
        int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
        if (dirfd < 0) return 2;
        if (syscall(SYS_unlink, (dir + "/a").c_str()) != 0) return 3;
        if (syscall(SYS_rename, (dir + "/b").c_str(), (dir + "/c").c_str()) != 0) return 4;
        if (syscall(SYS_unlinkat, dirfd, "c", 0) != 0) return 5;
        if (syscall(SYS_rmdir, (dir + "/sub").c_str()) != 0) return 6;
        if (syscall(SYS_renameat, dirfd, "d", dirfd, "e") != 0) return 7;
        if (syscall(SYS_renameat2, AT_FDCWD, (dir + "/e").c_str(), AT_FDCWD, hostile.c_str(),
                    RENAME_NOREPLACE) != 0)
            return 8;
        if (syscall(SYS_unlink, hostile.c_str()) != 0) return 9;
        if (syscall(SYS_unlinkat, AT_FDCWD, (dir + "/f").c_str(), 0) != 0) return 10;
        close(dirfd);
        if (syscall(SYS_unlink, last.c_str()) != -1 || errno != ENOENT) return 11;
        if (!touch(last) || syscall(SYS_unlink, last.c_str()) != 0) return 12;
        return 0;
    }
};

} // namespace

TEST_CASE("filegone shows each deletion and rename of a process with its names, on both tiers; "
          "-p, -n and -x filter",
          "[filegone]") {
    REQUIRE_BPF();
    Workload w("t16-filegone");
    Workload other_w("t16-filegone-other");
    std::string comm = unique_comm("gone-");
    GatedChild child([&] { return w.calls(); }, comm.c_str());
    // Another process of the test's own, with the same calls in a directory
    // of its own under another name: what -p and -n must leave out.
    GatedChild other([&] { return other_w.calls(); }, "t16-other");
    SyscallToolRuns runs = run_on_both_syscall_tiers("filegone", child, other, comm, w.last);
    std::string pid = std::to_string(child.pid());
    CHECK(runs.text.exit_code == 0);
    CHECK(runs.failed.exit_code == 0);

    std::set<Gone> succeeded, failed;
    for (const Gone& g : w.expected(w.hostile_json))
        (std::get<4>(g) ? failed : succeeded).insert(g);

    for (size_t i = 0; i < runs.json.size(); i++) {
        INFO("instance " << i << " (0: tracepoints, 1: raw sys_enter/sys_exit)");
        CHECK(runs.json[i].exit_code == 0);
        std::set<Gone> seen;
        for (const json& e : json_lines(runs.json[i].out)) {
            INFO(e.dump());
            REQUIRE(e.at("pid") == child.pid());
            CHECK(e.at("comm") == comm);
            std::string call = e.at("call");
            if (call == "unlinkat") {
                CHECK(e.at("flags") == 0);
                CHECK((e.at("dirfd") == AT_FDCWD) == (e.at("file") == w.dir + "/f"));
            }
            if (call == "renameat") CHECK(e.at("new_dirfd") == e.at("dirfd"));
            if (call == "renameat2") CHECK(e.at("flags") == RENAME_NOREPLACE);
            if (e.at("action") == "DELETE") CHECK(e.at("new_file").is_null());
            std::string new_file =
                e.at("new_file").is_null() ? "" : e.at("new_file").get<std::string>();
            seen.insert({e.at("action").get<std::string>(), call, e.at("file").get<std::string>(),
                         new_file, e.at("errno").get<int>()});
        }
        CHECK(seen == succeeded);
    }

    // Text: the header, and one line per call of the child alone (-n).
    CHECK(lines(runs.text.out)[0].find("PID     COMM             ACTION FILE") == 0);
    std::set<std::tuple<std::string, std::string, std::string>> text_seen, text_expected;
    for (const Gone& g : w.expected(w.hostile_text))
        if (std::get<4>(g) == 0)
            text_expected.insert({std::get<0>(g), std::get<2>(g), std::get<3>(g)});
    for (const std::string& row : lines_containing(runs.text.out, comm)) {
        std::vector<std::string> f = fields(row);
        INFO(row);
        REQUIRE(f.size() >= 4);
        CHECK(f[0] == pid);
        CHECK(f[1] == comm);
        if (f[2] == "RENAME") {
            REQUIRE(f.size() == 6);
            CHECK(f[4] == ">");
            text_seen.insert({f[2], f[3], f[5]});
        } else {
            REQUIRE(f.size() == 4);
            text_seen.insert({f[2], f[3], ""});
        }
    }
    CHECK(text_seen == text_expected);

    // -x: the failed deletion alone, with its errno.
    std::set<Gone> failed_seen;
    for (const json& e : json_lines(runs.failed.out)) {
        INFO(e.dump());
        CHECK(e.at("pid") == child.pid());
        failed_seen.insert({e.at("action").get<std::string>(), e.at("call").get<std::string>(),
                            e.at("file").get<std::string>(), "", e.at("errno").get<int>()});
    }
    CHECK(failed_seen == failed);
    CHECK(lines_containing(runs.failed.out, "t16-other").empty());
}

} // namespace test_filegone
