// vfscount against file calls a child of this test makes in known numbers,
// counted with -p on the child: the rest of the host is filtered out in the
// kernel, so every call's count must be exact, and calls that are not file
// calls (close, getppid) must not appear.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_vfscount {

using namespace itest;
using nlohmann::json;

namespace {

const char* child_name = "vfscount-child";

// What the child does, each count different so the order is known. The
// read that waits for go() returns after the tools attached: one read more.
const std::map<std::string, uint64_t> expected = {
    {"read", 50 + 1}, {"write", 30}, {"openat", 12}, {"unlinkat", 8}, {"fsync", 4}};
const std::vector<std::string> by_count = {"read", "write", "openat", "unlinkat", "fsync"};

// Runs in the child: exactly the calls of `expected` (through the system
// calls themselves, as glibc may route others), and some that are not file
// calls.
int file_calls(const std::string& dir) {
    char buffer[64];
    std::string file = dir + "/f";
    int fd = static_cast<int>(
        syscall(SYS_openat, AT_FDCWD, file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
    for (int i = 0; i < 30; i++)
        syscall(SYS_write, fd, buffer, sizeof buffer);
    for (int i = 0; i < 4; i++)
        syscall(SYS_fsync, fd);
    for (int i = 0; i < 50; i++)
        syscall(SYS_read, fd, buffer, sizeof buffer);
    syscall(SYS_close, fd);
    for (int i = 0; i < 11; i++) // openat 2 to 12
        syscall(SYS_close, syscall(SYS_openat, AT_FDCWD, file.c_str(), O_RDONLY));
    for (int i = 0; i < 100; i++) // not file calls
        syscall(SYS_getppid);
    for (int i = 0; i < 8; i++) // the first removes the file, the others fail
        syscall(SYS_unlinkat, AT_FDCWD, file.c_str(), 0);
    return 0;
}

std::function<void()> skip_attach(const char* kinds) {
    return [kinds] { setenv("CORESCOPE_SKIP_ATTACH", kinds, 1); };
}

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("vfscount"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe, skip_attach(skip));
}

uint64_t total_calls() {
    uint64_t total = 0;
    for (const auto& [call, n] : expected)
        total += n;
    return total;
}

} // namespace

TEST_CASE("vfscount -p counts each of the child's file calls exactly, on every tier, in order",
          "[vfscount]") {
    REQUIRE_BPF();
    char dir_template[] = "/tmp/vfscount-XXXXXX";
    REQUIRE(mkdtemp(dir_template));
    std::string dir = dir_template;
    GatedChild child([&] { return file_calls(dir); }, child_name);
    std::string pid = std::to_string(child.pid());
    std::vector<std::unique_ptr<ToolProcess>> tiers;
    for (const char* skip : {"", "tp_btf", "tp_btf,raw_tp"})
        tiers.push_back(start({"-p", pid, "--top", "0", "-o", "json"}, skip));
    auto top2 = start({"-p", pid, "--top", "2", "-o", "json"});
    auto text = start({"-p", pid, "-T", "--top", "3"});
    auto by_process = start({"-P", "-p", pid, "-o", "json"});
    auto by_process_text = start({"-P", "-p", pid});
    for (auto* t : {tiers[0].get(), tiers[1].get(), tiers[2].get(), top2.get(), text.get(),
                    by_process.get(), by_process_text.get()})
        REQUIRE(t->wait_attached());
    REQUIRE(child.run() == 0);
    rmdir(dir.c_str());

    for (size_t i = 0; i < tiers.size(); i++) {
        INFO("tier " << i << " (0: tp_btf, 1: raw_tp, 2: tracefs)");
        Finished f = tiers[i]->stop();
        CHECK(f.exit_code == 0);
        std::vector<json> records = json_lines(f.out);
        REQUIRE(records.size() == 1);
        const json& r = records[0];
        CHECK(r.at("by") == "syscall");
        CHECK(r.at("total") == total_calls());
        CHECK(r.at("distinct") == expected.size());
        std::vector<std::string> order;
        for (const json& e : r.at("entries")) {
            std::string call = e.at("syscall");
            INFO(call);
            order.push_back(call);
            REQUIRE(expected.count(call)); // close and getppid are not file calls
            CHECK(e.at("count") == expected.at(call));
            CHECK(e.at("nr").is_number_unsigned());
        }
        CHECK(order == by_count);
    }

    Finished f = top2->stop();
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    // The total and distinct count every call, the entries only the top two.
    CHECK(records[0].at("total") == total_calls());
    CHECK(records[0].at("distinct") == expected.size());
    REQUIRE(records[0].at("entries").size() == 2);
    CHECK(records[0].at("entries")[0].at("syscall") == "read");
    CHECK(records[0].at("entries")[0].at("count") == 51);
    CHECK(records[0].at("entries")[1].at("syscall") == "write");
    CHECK(records[0].at("entries")[1].at("count") == 30);

    f = text->stop();
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    REQUIRE(out.size() == 5);
    CHECK(std::regex_match(out[0], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    CHECK(std::regex_match(out[1], std::regex("SYSCALL +COUNT")));
    CHECK(std::regex_match(out[2], std::regex("read +51")));
    CHECK(std::regex_match(out[3], std::regex("write +30")));
    CHECK(std::regex_match(out[4], std::regex("openat +12")));

    f = by_process->stop();
    CHECK(f.exit_code == 0);
    records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("by") == "process");
    REQUIRE(records[0].at("entries").size() == 1);
    const json& e = records[0].at("entries")[0];
    CHECK(e.at("pid") == child.pid());
    CHECK(e.at("comm") == child_name);
    CHECK(e.at("count") == total_calls());

    f = by_process_text->stop();
    CHECK(f.exit_code == 0);
    out = lines(f.out);
    REQUIRE(out.size() == 2);
    CHECK(std::regex_match(out[0], std::regex("PID +COMM +COUNT")));
    CHECK(std::regex_match(
        out[1], std::regex(pid + " +" + child_name + " +" + std::to_string(total_calls()))));
}

TEST_CASE("vfscount prints a summary per interval and stops after count", "[vfscount]") {
    REQUIRE_BPF();
    double started = now_s();
    Finished f = run({tool_path("vfscount"), "-o", "json", "1", "2"}, 30);
    double wall = now_s() - started;
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records) {
        CHECK(r.at("by") == "syscall");
        // Only file calls, whatever the host is doing.
        for (const json& e : r.at("entries")) {
            INFO(e.dump());
            CHECK(e.at("syscall") != "close");
            CHECK(e.at("syscall") != "getppid");
        }
    }
}

TEST_CASE("vfscount -P names a process by what it exec'd, though exec is not a file call",
          "[vfscount]") {
    REQUIRE_BPF();
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        prctl(PR_SET_NAME, child_name);
        char c;
        // Counted under child_name: this read, which returns after go.
        if (syscall(SYS_read, fds[0], &c, 1) != 1) _exit(100);
        execl("/bin/true", "true", static_cast<char*>(nullptr)); // loads its libraries
        _exit(101);
    }
    close(fds[0]);
    for (int i = 0; i < 5000; i++) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
        std::string nr;
        if (in >> nr && nr == std::to_string(SYS_read)) break;
        usleep(1000);
    }
    auto tool = start({"-P", "-p", std::to_string(pid), "-o", "json"});
    REQUIRE(tool->wait_attached());
    REQUIRE(write(fds[1], "g", 1) == 1);
    close(fds[1]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    Finished f = tool->stop();
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 1);
    REQUIRE(records[0].at("entries").size() == 1);
    const json& e = records[0].at("entries")[0];
    CHECK(e.at("pid") == pid);
    CHECK(e.at("comm") == "true");
    // The read, and the dynamic loader's opens and reads of libc at least.
    CHECK(e.at("count").get<uint64_t>() > 3);
}

} // namespace test_vfscount
