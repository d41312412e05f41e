// setuids against a child of this test, running as root, that joins known
// groups, drops to a known UID and GID, and then fails to regain root.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <grp.h>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_setuids {

using namespace itest;
using nlohmann::json;

namespace {

constexpr long test_uid = 4241;
constexpr long test_gid = 4242;

// A child named comm that, as root, calls in order: setgroups({4242, 4243}),
// setresgid(4242, 4242, 4242), setresuid(4241, 4241, 4241), setfsuid(4241)
// (returns the old fs UID, 4241), then as that user setuid(0), setgid(0) and
// last setreuid(-1, 0): all three EPERM. Exits 0 if every call did that.
pid_t credentials_child(const std::string& comm) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_NAME, comm.c_str());
    gid_t groups[] = {static_cast<gid_t>(test_gid), static_cast<gid_t>(test_gid + 1)};
    if (syscall(SYS_setgroups, 2, groups) != 0) _exit(1);
    if (syscall(SYS_setresgid, test_gid, test_gid, test_gid) != 0) _exit(2);
    if (syscall(SYS_setresuid, test_uid, test_uid, test_uid) != 0) _exit(3);
    if (syscall(SYS_setfsuid, test_uid) != test_uid) _exit(4);
    if (syscall(SYS_setuid, 0) != -1 || errno != EPERM) _exit(5);
    if (syscall(SYS_setgid, 0) != -1 || errno != EPERM) _exit(6);
    if (syscall(SYS_setreuid, -1, 0) != -1 || errno != EPERM) _exit(7);
    _exit(0);
}

} // namespace

TEST_CASE("setuids shows each set*id call with the old IDs, the requested ones and the result",
          "[setuids]") {
    REQUIRE_BPF();
    REQUIRE(geteuid() == 0);
    std::string comm = unique_comm("setuids-");
    ToolProcess text({tool_path("setuids"), "-n", comm});
    ToolProcess jsonl({tool_path("setuids"), "-o", "json", "-n", comm});
    ToolProcess failed({tool_path("setuids"), "-x", "-o", "json", "-n", comm});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    REQUIRE(failed.wait_attached());
    pid_t pid = credentials_child(comm);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    // setreuid is the child's last call: once it shows, all did.
    REQUIRE(jsonl.wait_for_output("\"call\":\"setreuid\""));
    REQUIRE(failed.wait_for_output("\"call\":\"setreuid\""));
    REQUIRE(text.wait_for_output("setreuid"));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    Finished x = failed.stop();
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    CHECK(x.exit_code == 0);

    std::vector<json> events = json_lines(j.out);
    REQUIRE(events.size() == 7);
    std::vector<std::string> calls;
    for (const json& e : events) {
        CHECK(e.at("pid") == pid);
        CHECK(e.at("comm") == comm);
        calls.push_back(e.at("call"));
    }
    CHECK(calls == std::vector<std::string>{"setgroups", "setresgid", "setresuid", "setfsuid",
                                            "setuid", "setgid", "setreuid"});
    auto old_ids = [](const json& e) {
        return std::vector<long>{e.at("old_ruid"),  e.at("old_euid"), e.at("old_suid"),
                                 e.at("old_fsuid"), e.at("old_rgid"), e.at("old_egid"),
                                 e.at("old_sgid"),  e.at("old_fsgid")};
    };
    const long u = test_uid, g = test_gid;
    // setgroups
    CHECK(events[0].at("group_count") == 2);
    CHECK(events[0].at("groups") == json::array({g, g + 1}));
    CHECK(events[0].at("errno") == 0);
    CHECK(old_ids(events[0]) == std::vector<long>{0, 0, 0, 0, 0, 0, 0, 0});
    // setresgid(g, g, g): the keys of its arguments only
    CHECK(events[1].at("new_rgid") == g);
    CHECK(events[1].at("new_egid") == g);
    CHECK(events[1].at("new_sgid") == g);
    CHECK_FALSE(events[1].contains("new_ruid"));
    CHECK_FALSE(events[1].contains("groups"));
    CHECK(events[1].at("ret") == 0);
    // setresuid(u, u, u) sees the gids setresgid set (fs GID follows the effective)
    CHECK(old_ids(events[2]) == std::vector<long>{0, 0, 0, 0, g, g, g, g});
    CHECK(events[2].at("new_ruid") == u);
    CHECK(events[2].at("new_suid") == u);
    // setfsuid returns the previous fs UID, which is no error
    CHECK(events[3].at("new_fsuid") == u);
    CHECK(events[3].at("ret") == u);
    CHECK(events[3].at("errno") == 0);
    // the failed attempts to regain root, as the unprivileged user
    for (size_t i = 4; i < 7; i++) {
        CHECK(events[i].at("uid") == u);
        CHECK(events[i].at("errno") == EPERM);
        CHECK(events[i].at("ret") == -EPERM);
        CHECK(old_ids(events[i]) == std::vector<long>{u, u, u, u, g, g, g, g});
    }
    CHECK(events[4].at("new_uid") == 0);
    CHECK(events[5].at("new_gid") == 0);
    CHECK(events[6].at("new_ruid") == -1);
    CHECK(events[6].at("new_euid") == 0);

    // -x: only the three failures
    std::vector<std::string> failed_calls;
    for (const json& e : json_lines(x.out)) {
        CHECK(e.at("errno") == EPERM);
        failed_calls.push_back(e.at("call"));
    }
    CHECK(failed_calls == std::vector<std::string>{"setuid", "setgid", "setreuid"});

    auto rows = lines_containing(t.out, comm);
    REQUIRE(rows.size() == 7);
    CHECK(lines(t.out)[0].find("PID     COMM             CALL      REQUESTED") == 0);
    std::vector<std::string> f = fields(rows[2]);
    REQUIRE(f.size() == 8);
    CHECK(f[0] == std::to_string(pid));
    CHECK(f[2] == "setresuid");
    CHECK(f[3] == "ruid=4241");
    CHECK(f[5] == "suid=4241");
    CHECK(f[6] == "0/0/0/0");
    CHECK(f[7] == "0");
    f = fields(rows[0]);
    REQUIRE(f.size() == 6);
    CHECK(f[3] == "groups=4242,4243");
    f = fields(rows[6]);
    REQUIRE(f.size() == 7);
    CHECK(f[3] == "ruid=-1");
    CHECK(f[5] == "4241/4241/4241/4241");
    CHECK(f[6] == "1");
}

} // namespace test_setuids
