// ksnoop: where the kernel has neither fentry/fexit nor kprobes (this
// machine's 6.18), one line naming both and exit 1, checked against the
// kernel itself; where it has them, a child's failed mkdir calls with known
// arguments and results (the 6.1 guest's check is guest-checks.sh's). Prototypes (info) and bad
// input need no BPF.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace test_ksnoop {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int calls = 3;

// mkdir of a directory whose parent does not exist, mode 0712, calls
// times: do_mkdirat(AT_FDCWD, name, 0712) returns -ENOENT each time.
int failed_mkdirs() {
    for (int i = 0; i < calls; i++)
        if (mkdir("/nonexistent-ksnoop-test/d", 0712) == 0) return 1;
    return 0;
}

} // namespace

TEST_CASE("ksnoop info prints a prototype from BTF; bad functions and arguments exit 2",
          "[ksnoop]") {
    Finished info = run({tool_path("ksnoop"), "info", "do_mkdirat"});
    CHECK(info.exit_code == 0);
    CHECK(info.out == "int do_mkdirat(int dfd, struct filename *name, umode_t mode);\n");
    Finished ptr = run({tool_path("ksnoop"), "info", "vfs_fsync"});
    CHECK(ptr.exit_code == 0);
    CHECK(ptr.out == "int vfs_fsync(struct file *file, int datasync);\n");

    Finished none = run({tool_path("ksnoop"), "no_such_function_xyz"});
    CHECK(none.exit_code == 2);
    CHECK(none.err.find("'no_such_function_xyz'") != std::string::npos);
    Finished arg = run({tool_path("ksnoop"), "do_mkdirat(dfd, nosucharg)"});
    CHECK(arg.exit_code == 2);
    CHECK(arg.err.find("'nosucharg'") != std::string::npos);
    CHECK(arg.err.find("do_mkdirat(int dfd") != std::string::npos);
    Finished member = run({tool_path("ksnoop"), "vfs_fsync(file->f_mode)"});
    CHECK(member.exit_code == 2);
    CHECK(member.err.find("'file->f_mode'") != std::string::npos);
    Finished syntax = run({tool_path("ksnoop"), "vfs_fsync(file"});
    CHECK(syntax.exit_code == 2);
    for (const Finished* f : {&none, &arg, &member, &syntax})
        CHECK(std::count(f->err.begin(), f->err.end(), '\n') <= 2);
}

TEST_CASE("ksnoop without fentry and kprobes says so in one line and exits 1; with them it shows "
          "a child's calls",
          "[ksnoop]") {
    REQUIRE_BPF();
    std::string lacks = kernel_lacks_for("ksnoop");
    if (!lacks.empty()) {
        // Truly absent: no kprobe event source; fentry refused.
        CHECK(access("/sys/bus/event_source/devices/kprobe/type", F_OK) != 0);
        Finished r = run({tool_path("ksnoop"), "do_mkdirat(dfd, mode, return)"});
        Finished dry = run({tool_path("ksnoop"), "--dry-run"});
        for (const Finished* f : {&r, &dry}) {
            CHECK(f->exit_code == 1);
            CHECK(std::count(f->err.begin(), f->err.end(), '\n') == 1);
            CHECK(f->err.find("ksnoop: ") == 0);
            CHECK(f->err.find("fentry") != std::string::npos);
            CHECK(f->err.find("kprobe") != std::string::npos);
            CHECK(f->out.empty());
        }
        CHECK(r.err.find("do_mkdirat") != std::string::npos);
        return;
    }
    // The kernel has one of them: the child's calls, by PID, on each tier.
    GatedChild child(failed_mkdirs, "ksnp-child");
    GatedChild other(failed_mkdirs, "ksnp-other");
    std::string pid = std::to_string(child.pid());
    ToolProcess text({tool_path("ksnoop"), "-p", pid, "do_mkdirat(dfd, mode, return)"});
    ToolProcess jsonl({tool_path("ksnoop"), "-p", pid, "-o", "json", "trace", "do_mkdirat"},
                      ToolProcess::Stdout::pipe,
                      [] { setenv("CORESCOPE_SKIP_ATTACH", "fentry,fexit", 1); });
    for (ToolProcess* p : {&text, &jsonl})
        REQUIRE(p->wait_attached());
    REQUIRE(child.run() == 0);
    REQUIRE(other.run() == 0);
    Finished t = text.stop();
    Finished j = jsonl.stop();
    INFO("text:\n" << t.out << "\njson:\n" << j.out << "\nstderr: " << j.err);
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    size_t failed = 0;
    for (const std::string& line : lines(t.out))
        failed += line.find("do_mkdirat(dfd=-100, mode=458) = -2") != line.npos;
    CHECK(failed == calls);
    std::vector<json> records = json_lines(j.out);
    for (const json& r : records) {
        CHECK(r.at("pid") == child.pid());
        CHECK(r.at("comm") == "ksnp-child");
        CHECK(r.at("function") == "do_mkdirat");
        CHECK(r.at("args").at("dfd") == -100);
        CHECK(r.at("args").at("mode") == 0712);
        CHECK(r.at("args").at("name").get<std::string>().starts_with("0x"));
        CHECK(r.at("ret") == -2);
    }
    CHECK(records.size() == calls);
}

} // namespace test_ksnoop
