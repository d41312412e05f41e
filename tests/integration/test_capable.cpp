// capable against a child of this test that, as root, drops to a known UID
// and GID (CAP_SETGID and CAP_SETUID granted) and then fails to regain root
// (CAP_SETUID refused).
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_capable {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int cap_setgid = 6;
constexpr int cap_setuid = 7;

// A child named comm: setresgid(4252 x3), setresuid(4251 x3), then
// setuid(0), which fails with EPERM. Exits 0 if every call did that.
pid_t dropping_child(const std::string& comm) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_NAME, comm.c_str());
    if (syscall(SYS_setresgid, 4252, 4252, 4252) != 0) _exit(1);
    if (syscall(SYS_setresuid, 4251, 4251, 4251) != 0) _exit(2);
    if (syscall(SYS_setuid, 0) != -1 || errno != EPERM) _exit(3);
    _exit(0);
}

// The index of the first record in events at or after from for cap with
// verdict; events.size() when there is none.
size_t find_check(const std::vector<json>& events, size_t from, int cap,
                  const std::string& verdict) {
    for (size_t i = from; i < events.size(); i++)
        if (events[i].at("cap") == cap && events[i].at("verdict") == verdict) return i;
    return events.size();
}

} // namespace

TEST_CASE("capable shows a process's capability checks with their verdicts; -x only the refused",
          "[capable]") {
    REQUIRE_BPF();
    REQUIRE(geteuid() == 0);
    std::string comm = unique_comm("capable-");
    ToolProcess text({tool_path("capable"), "-n", comm});
    ToolProcess jsonl({tool_path("capable"), "-o", "json", "-n", comm});
    ToolProcess failed({tool_path("capable"), "-x", "-o", "json", "-n", comm});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    ToolProcess all({tool_path("capable"), "--all", "-o", "json", "-n", comm});
    REQUIRE(failed.wait_attached());
    REQUIRE(all.wait_attached());
    pid_t pid = dropping_child(comm);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    // The refused CAP_SETUID is the child's last check.
    REQUIRE(jsonl.wait_for_output("\"verdict\":\"deny\""));
    REQUIRE(failed.wait_for_output("\"verdict\":\"deny\""));
    REQUIRE(text.wait_for_output("deny"));
    REQUIRE(all.wait_for_output("\"verdict\":\"deny\""));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    Finished x = failed.stop();
    Finished a = all.stop();
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    CHECK(x.exit_code == 0);

    std::vector<json> events = json_lines(j.out);
    for (const json& e : events) {
        CHECK(e.at("pid") == pid);
        CHECK(e.at("comm") == comm);
        CHECK((e.at("verdict") == "allow") == (e.at("ret") == 0));
        // The audit flag is known on the fexit and kprobe tiers only.
        CHECK((e.at("audit").is_null() || e.at("audit").is_boolean()));
    }
    // In order: CAP_SETGID granted (as root), CAP_SETUID granted, then
    // CAP_SETUID refused, as uid 4251.
    size_t setgid = find_check(events, 0, cap_setgid, "allow");
    REQUIRE(setgid < events.size());
    CHECK(events[setgid].at("cap_name") == "CAP_SETGID");
    CHECK(events[setgid].at("uid") == 0);
    size_t setuid = find_check(events, setgid + 1, cap_setuid, "allow");
    REQUIRE(setuid < events.size());
    CHECK(events[setuid].at("cap_name") == "CAP_SETUID");
    size_t refused = find_check(events, setuid + 1, cap_setuid, "deny");
    REQUIRE(refused < events.size());
    CHECK(events[refused].at("ret") == -EPERM);
    CHECK(events[refused].at("uid") == 4251);
    if (!events[refused].at("audit").is_null()) CHECK(events[refused].at("audit") == true);

    // -x: the refusal, and no granted check
    std::vector<json> refusals = json_lines(x.out);
    REQUIRE(!refusals.empty());
    for (const json& e : refusals) {
        CHECK(e.at("pid") == pid);
        CHECK(e.at("verdict") == "deny");
    }
    CHECK(find_check(refusals, 0, cap_setuid, "deny") < refusals.size());

    // --all: every check the default shows, and the unaudited granted ones
    // where the tier tells them apart.
    std::vector<json> every = json_lines(a.out);
    CHECK(every.size() >= events.size());
    size_t all_refused =
        find_check(every, find_check(every, 0, cap_setgid, "allow") + 1, cap_setuid, "deny");
    CHECK(all_refused < every.size());

    CHECK(lines(t.out)[0].find("PID     COMM              CAP NAME") == 0);
    auto rows = lines_containing(t.out, comm);
    CHECK(rows.size() == events.size());
    bool denied_row = false;
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        REQUIRE(f.size() == 6);
        CHECK(f[0] == std::to_string(pid));
        if (f[2] == "7" && f[3] == "CAP_SETUID" && f[5] == "deny") denied_row = true;
    }
    CHECK(denied_row);
}

} // namespace test_capable
