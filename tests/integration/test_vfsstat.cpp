// vfsstat against file-system calls a child of this test makes in known
// numbers, counted with -p on the child: the rest of the host is filtered
// out in the kernel, so every family's count must be exact.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_vfsstat {

using namespace itest;
using nlohmann::json;

namespace {

// What the child does, family by family.
const std::map<std::string, uint64_t> expected = {
    {"read", 300},  {"write", 200}, {"fsync", 5},  {"open", 40 + 30}, {"create", 30},
    {"unlink", 20}, {"mkdir", 10},  {"rmdir", 10}, {"rename", 7},     {"stat", 60}};

// Runs in the child: exactly the calls of `expected`, through the system
// calls themselves (glibc may route stat() and others through other calls).
int file_calls(const std::string& dir) {
    char buffer[64];
    int zero = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDONLY)); // open 1
    int null = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY)); // open 2
    for (int i = 0; i < 300; i++)
        syscall(SYS_read, zero, buffer, sizeof buffer);
    for (int i = 0; i < 200; i++)
        syscall(SYS_write, null, buffer, sizeof buffer);
    std::string file = dir + "/f";
    for (int i = 0; i < 30; i++) { // 30 creates (and opens), 30 closes
        int fd = static_cast<int>(
            syscall(SYS_openat, AT_FDCWD, file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        if (i < 5) syscall(SYS_fsync, fd);
        syscall(SYS_close, fd);
    }
    for (int i = 0; i < 38; i++) // opens 3 to 40
        syscall(SYS_close, syscall(SYS_openat, AT_FDCWD, file.c_str(), O_RDONLY));
    struct stat st;
    for (int i = 0; i < 20; i++) {
        syscall(SYS_newfstatat, AT_FDCWD, file.c_str(), &st, 0);
        syscall(SYS_fstat, zero, &st);
        struct statx stx;
        syscall(SYS_statx, AT_FDCWD, file.c_str(), 0, STATX_BASIC_STATS, &stx);
    }
    std::string other = dir + "/g";
    for (int i = 0; i < 7; i++) // renames to and fro
        syscall(SYS_renameat2, AT_FDCWD, (i % 2 ? other : file).c_str(), AT_FDCWD,
                (i % 2 ? file : other).c_str(), 0);
    for (int i = 0; i < 20; i++) // unlinks, the first one of the file
        syscall(SYS_unlinkat, AT_FDCWD, (i == 0 ? other : file).c_str(), 0);
    std::string sub = dir + "/d";
    for (int i = 0; i < 10; i++) {
        syscall(SYS_mkdirat, AT_FDCWD, sub.c_str(), 0755);
        if (i % 2)
            syscall(SYS_unlinkat, AT_FDCWD, sub.c_str(), AT_REMOVEDIR); // an rmdir
        else
            syscall(SYS_rmdir, sub.c_str());
    }
    return 0;
}

std::map<std::string, uint64_t> sums(const std::string& out) {
    std::map<std::string, uint64_t> s;
    for (const json& r : json_lines(out)) {
        CHECK(r.at("interval_s").get<double>() > 0);
        for (const auto& [family, n] : expected)
            s[family] += r.at(family).get<uint64_t>();
    }
    return s;
}

std::function<void()> skip_attach(const char* kinds) {
    return [kinds] { setenv("CORESCOPE_SKIP_ATTACH", kinds, 1); };
}

} // namespace

TEST_CASE("vfsstat -p counts each family of the child's file calls exactly, on every tier",
          "[vfsstat]") {
    REQUIRE_BPF();
    char dir_template[] = "/tmp/vfsstat-XXXXXX";
    REQUIRE(mkdtemp(dir_template));
    std::string dir = dir_template;
    GatedChild child([&] { return file_calls(dir); });
    std::string pid = std::to_string(child.pid());
    std::vector<std::unique_ptr<ToolProcess>> tiers;
    for (const char* skip : {"", "tp_btf", "tp_btf,raw_tp"})
        tiers.push_back(std::make_unique<ToolProcess>(
            std::vector<std::string>{tool_path("vfsstat"), "-p", pid, "-o", "json"},
            ToolProcess::Stdout::pipe, skip_attach(skip)));
    ToolProcess text({tool_path("vfsstat"), "-T", "-p", pid, "3600"});
    for (auto& t : tiers)
        REQUIRE(t->wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(child.run() == 0);
    rmdir(dir.c_str());
    for (size_t i = 0; i < tiers.size(); i++) {
        INFO("tier " << i << " (0: tp_btf, 1: raw_tp, 2: tracefs)");
        Finished f = tiers[i]->stop();
        CHECK(f.exit_code == 0);
        std::map<std::string, uint64_t> got = sums(f.out);
        // Every call once: the 30 opens with O_CREAT are in two families.
        uint64_t total = 0;
        for (const json& r : json_lines(f.out))
            total += r.at("total").get<uint64_t>();
        uint64_t families = 0;
        for (const auto& [family, n] : expected)
            families += n;
        CHECK(total == families - 30);
        for (const auto& [family, n] : expected) {
            INFO(family);
            CHECK(got[family] == n);
        }
    }
    // Text: one line at the end of the (long) interval, per second: the
    // counts over the time it ran, so only their being there and the
    // columns' shape are certain.
    Finished t = text.stop();
    CHECK(t.exit_code == 0);
    std::vector<std::string> out = lines(t.out);
    REQUIRE(out.size() == 2);
    CHECK(std::regex_match(out[0], std::regex("TIME +READ/s +WRITE/s +FSYNC/s +OPEN/s +CREATE/s "
                                              "+UNLINK/s +MKDIR/s +RMDIR/s +RENAME/s +STAT/s")));
    CHECK(std::regex_match(out[1], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9]( +[0-9]+){10}")));
}

TEST_CASE("vfsstat prints a line per interval and stops after count", "[vfsstat]") {
    REQUIRE_BPF();
    double started = now_s();
    Finished f = run({tool_path("vfsstat"), "-o", "json", "1", "2"}, 30);
    double wall = now_s() - started;
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records) {
        for (const auto& [family, n] : expected)
            CHECK(r.at(family).is_number_unsigned());
    }
}

} // namespace test_vfsstat
