// mountsnoop against a child of this test that, in a mount namespace of its
// own, mounts a tmpfs with known flags (with mount() and with the new mount
// API) and unmounts it, and fails a mount of a file system type that does
// not exist.
#include "harness.h"
#include "syscall_tool_runs.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstream>
#include <linux/mount.h>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace test_mountsnoop {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int mnt_detach = 2; // MNT_DETACH: <sys/mount.h> clashes with <linux/mount.h>

struct Workload {
    std::string dir = "/tmp/" + unique_token("t15-mountsnoop");
    std::string last = dir + "-last"; // the child's last call fails on it (ENOENT)
    std::string source = unique_token("t15src");
    std::string comm = unique_comm("mnt-");
    // The failed mount's data: text escapes it, JSON carries it (the byte
    // that is not UTF-8 as U+FFFD).
    std::string hostile = "opt=\x1b[31m\n\xff";

    Workload() { REQUIRE(mkdir(dir.c_str(), 0700) == 0); }
    ~Workload() { rmdir(dir.c_str()); }

    // Each call through syscall(): the C library's mount.h and the kernel's
    // clash. Returns 0, or the step that went wrong.
    int calls() const {
        if (unshare(CLONE_NEWNS) != 0) return 1;
        // Nothing mounted here may reach the host's namespace.
        if (syscall(SYS_mount, "none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 2;
        if (syscall(SYS_mount, source.c_str(), dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                    "size=1m,mode=700") != 0)
            return 3;
        if (syscall(SYS_umount2, dir.c_str(), mnt_detach) != 0) return 4;
        if (syscall(SYS_mount, source.c_str(), dir.c_str(), "t15nosuchfs", 0, hostile.c_str()) !=
                -1 ||
            errno != ENODEV)
            return 5;
        // The same tmpfs through the new API.
        int fs = syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0) return 6;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "1m", 0) != 0) return 7;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return 8;
        int mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
        if (mnt < 0) return 9;
        if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, dir.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
            return 10;
        close(mnt);
        close(fs);
        if (syscall(SYS_umount2, dir.c_str(), 0) != 0) return 11;
        if (syscall(SYS_umount2, last.c_str(), 0) != -1 || errno != ENOENT) return 12;
        return 0;
    }
};

std::string own_mount_namespace() {
    char link[64] = {};
    REQUIRE(readlink("/proc/self/ns/mnt", link, sizeof(link) - 1) > 0);
    std::string s = link; // mnt:[4026531832]
    return s.substr(s.find('[') + 1, s.find(']') - s.find('[') - 1);
}

} // namespace

TEST_CASE("mountsnoop shows a process's mounts and unmounts with their arguments and results, on "
          "both tiers; -p, -n and -x filter",
          "[mountsnoop]") {
    REQUIRE_BPF();
    Workload w;
    GatedChild child([&] { return w.calls(); }, w.comm.c_str());
    // Another process of the test's own making the same calls under another
    // name: what -p and -n must leave out.
    GatedChild other([&] { return w.calls(); }, "t15-other");
    SyscallToolRuns runs = run_on_both_syscall_tiers("mountsnoop", child, other, w.comm, w.last);
    Finished& t = runs.text;
    std::vector<Finished>& json_runs = runs.json;
    Finished& x = runs.failed;
    std::string pid = std::to_string(child.pid());
    CHECK(t.exit_code == 0);
    CHECK(x.exit_code == 0);
    std::string host_ns = own_mount_namespace();

    for (size_t i = 0; i < json_runs.size(); i++) {
        INFO("instance " << i << " (0: tracepoints, 1: raw sys_enter/sys_exit)");
        CHECK(json_runs[i].exit_code == 0);
        std::vector<json> events = json_lines(json_runs[i].out);
        std::vector<std::string> calls;
        for (const json& e : events) {
            INFO(e.dump());
            REQUIRE(e.at("pid") == child.pid());
            CHECK(e.at("comm") == w.comm);
            // All after unshare(): the child's own namespace, not the host's.
            CHECK(e.at("mnt_ns") == events[0].at("mnt_ns"));
            CHECK(std::to_string(e.at("mnt_ns").get<uint64_t>()) != host_ns);
            CHECK(e.at("latency_ms").get<double>() >= 0);
            calls.push_back(e.at("call"));
        }
        CHECK(calls == std::vector<std::string>{"mount", "mount", "umount2", "mount", "fsopen",
                                                "fsconfig", "fsconfig", "fsmount", "move_mount",
                                                "umount2", "umount2"});
        if (events.size() != calls.size() || calls.size() != 11) continue;
        const json& tmpfs = events[1];
        CHECK(tmpfs.at("source") == w.source);
        CHECK(tmpfs.at("target") == w.dir);
        CHECK(tmpfs.at("fstype") == "tmpfs");
        CHECK(tmpfs.at("flags") == (MS_NOSUID | MS_NODEV));
        CHECK(tmpfs.at("flag_names") == "MS_NOSUID|MS_NODEV");
        CHECK(tmpfs.at("data") == "size=1m,mode=700");
        CHECK(tmpfs.at("ret") == 0);
        CHECK(tmpfs.at("errno") == 0);
        CHECK(events[0].at("flag_names") == "MS_REC|MS_PRIVATE");
        CHECK(events[2].at("target") == w.dir);
        CHECK(events[2].at("flag_names") == "MNT_DETACH");
        const json& bad = events[3];
        CHECK(bad.at("fstype") == "t15nosuchfs");
        CHECK(bad.at("data") == "opt=\x1b[31m\n\xef\xbf\xbd");
        CHECK(events[0].at("fstype").is_null()); // passed as NULL
        CHECK(bad.at("ret") == -1);
        CHECK(bad.at("errno") == ENODEV);
        CHECK(events[4].at("fstype") == "tmpfs");
        CHECK(events[4].at("ret").get<int>() >= 0);
        CHECK(events[5].at("cmd") == "FSCONFIG_SET_STRING");
        CHECK(events[5].at("key") == "size");
        CHECK(events[5].at("value") == "1m");
        CHECK(events[5].at("fd") == events[4].at("ret"));
        CHECK(events[6].at("cmd") == "FSCONFIG_CMD_CREATE");
        CHECK(events[7].at("attr_set") == MOUNT_ATTR_NODEV);
        CHECK(events[7].at("flag_names") == "FSMOUNT_CLOEXEC");
        CHECK(events[8].at("from_dirfd") == events[7].at("ret"));
        CHECK(events[8].at("to_dirfd") == AT_FDCWD);
        CHECK(events[8].at("source") == "");
        CHECK(events[8].at("target") == w.dir);
        CHECK(events[8].at("flag_names") == "MOVE_MOUNT_F_EMPTY_PATH");
        CHECK(events[9].at("errno") == 0);
        CHECK(events[10].at("target") == w.last);
        CHECK(events[10].at("errno") == ENOENT);
    }

    // Text: the child's lines alone (-n), each call as strace writes it.
    CHECK(lines(t.out)[0].find("PID     COMM             MNT_NS      LAT(ms) CALL") == 0);
    auto rows = lines_containing(t.out, w.comm);
    REQUIRE(rows.size() == 11);
    // The CALL column: what follows the first four (PID, COMM, MNT_NS, LAT).
    auto call_of = [](const std::string& row) {
        size_t at = 0;
        for (int i = 0; i < 4; i++) {
            at = row.find_first_not_of(' ', at);
            at = row.find(' ', at);
        }
        return row.substr(row.find_first_not_of(' ', at));
    };
    for (const std::string& row : rows)
        CHECK(fields(row)[0] == pid);
    CHECK(call_of(rows[1]) == "mount(\"" + w.source + "\", \"" + w.dir +
                                  "\", \"tmpfs\", MS_NOSUID|MS_NODEV, \"size=1m,mode=700\") = 0");
    CHECK(call_of(rows[2]) == "umount2(\"" + w.dir + "\", MNT_DETACH) = 0");
    CHECK(call_of(rows[3]) == "mount(\"" + w.source + "\", \"" + w.dir +
                                  "\", \"t15nosuchfs\", 0, \"opt=\\e[31m\\n\\xff\") = -1 ENODEV");
    CHECK(call_of(rows[5]).find("fsconfig(") == 0);
    CHECK(call_of(rows[5]).find(", FSCONFIG_SET_STRING, \"size\", \"1m\", 0) = 0") !=
          std::string::npos);
    CHECK(call_of(rows[8]).find(", \"\", AT_FDCWD, \"" + w.dir +
                                "\", MOVE_MOUNT_F_EMPTY_PATH) = 0") != std::string::npos);

    // -x: the failed calls alone.
    std::vector<std::string> failed_calls;
    for (const json& e : json_lines(x.out)) {
        CHECK(e.at("errno") != 0);
        failed_calls.push_back(e.at("call"));
    }
    CHECK(failed_calls == std::vector<std::string>{"mount", "umount2"});
}

} // namespace test_mountsnoop
