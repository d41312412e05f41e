// profile against a child of this test that spins in a uniquely named C++
// function: the function must show up, symbolized and demangled, in the
// child's stacks in every output form; and usage errors, one perf event per
// CPU, nothing left attached.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace corescope_itest {

// The function the samples must land in. noinline and with a side effect
// in its loop, so it stays a function of its own and never returns.
[[gnu::noinline]] void profile_busy_loop_xyz() {
    volatile unsigned long spins = 0;
    for (;;)
        spins = spins + 1;
}

// The same, for a while only: a process that exits while profile runs.
[[gnu::noinline]] void profile_busy_loop_for(double seconds) {
    struct timespec start {
    }, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    volatile unsigned long spins = 0;
    do {
        for (int i = 0; i < 1000000; i++)
            spins = spins + 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (static_cast<double>(now.tv_sec - start.tv_sec) +
                 static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9 <
             seconds);
}

} // namespace corescope_itest

// The rest in a namespace of its own (ten test files share a translation
// unit); the functions above stay outside it, named as the checks expect.
namespace test_profile {

using namespace itest;
using nlohmann::json;

namespace {

const std::string busy_function = "corescope_itest::profile_busy_loop_xyz()";
const std::string busy_comm = "cs-prof-busy";

// A child named busy_comm that spins (in profile_busy_loop_xyz, or reading
// /dev/zero, which spends its time in the kernel) until the test ends it.
struct Child {
    pid_t pid = -1;
    enum class Work { user_loop, read_zero, two_seconds };
    explicit Child(Work work) {
        pid = fork();
        if (pid == 0) {
            prctl(PR_SET_NAME, busy_comm.c_str());
            if (work == Work::user_loop) corescope_itest::profile_busy_loop_xyz();
            if (work == Work::two_seconds) {
                corescope_itest::profile_busy_loop_for(2);
                _exit(0);
            }
            static char buffer[1 << 16];
            int fd = open("/dev/zero", O_RDONLY);
            for (;;)
                if (read(fd, buffer, sizeof buffer) < 0) _exit(1);
        }
        if (pid < 0) throw std::runtime_error("fork failed");
    }
    ~Child() {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    std::string id() const { return std::to_string(pid); }
};

int online_cpu_count() {
    return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

} // namespace

TEST_CASE("profile -p finds the function a child spins in: text, folded and JSON", "[profile]") {
    REQUIRE_BPF();
    Child child(Child::Work::user_loop);
    // 499 Hz for 2 s: enough samples even when other work shares the CPUs.
    std::vector<std::string> common = {"-p", child.id(), "-F", "499", "-d", "2"};
    auto argv = [&](std::vector<std::string> extra) {
        std::vector<std::string> v = {tool_path("profile")};
        v.insert(v.end(), common.begin(), common.end());
        v.insert(v.end(), extra.begin(), extra.end());
        return v;
    };
    ToolProcess text(argv({}));
    ToolProcess folded(argv({"-f"}));
    ToolProcess jsonl(argv({"-o", "json"}));
    Finished t = text.wait(30);
    Finished f = folded.wait(30);
    Finished j = jsonl.wait(30);
    REQUIRE(t.exit_code == 0);
    REQUIRE(f.exit_code == 0);
    REQUIRE(j.exit_code == 0);

    SECTION("text: the function, then who, then a count") {
        INFO(t.out);
        std::vector<std::string> out = lines(t.out);
        std::string who = "    -                " + busy_comm + " (" + child.id() + ")";
        bool found = false;
        for (size_t i = 0; i + 2 < out.size(); i++) {
            if (out[i] != "    " + busy_function) continue;
            // The spinning function is the innermost user frame: the next
            // lines are its callers, then who and the count.
            size_t k = i + 1;
            while (k < out.size() && out[k] != who)
                k++;
            REQUIRE(k + 1 < out.size());
            CHECK(std::stoul(out[k + 1]) >= 1);
            found = true;
        }
        CHECK(found);
        // -p: nothing but the child.
        for (const std::string& line : out)
            if (line.rfind("    -  ", 0) == 0) CHECK(line == who);
    }
    SECTION("folded: comm;...;function count") {
        INFO(f.out);
        bool found = false;
        for (const std::string& line : lines(f.out)) {
            CHECK(line.rfind(busy_comm + ";", 0) == 0);
            size_t space = line.rfind(' ');
            REQUIRE(space != std::string::npos);
            CHECK(std::stoul(line.substr(space + 1)) >= 1);
            std::string frames = line.substr(0, space);
            // Innermost last: the stack ends in the spinning function.
            std::string tail = ";" + busy_function;
            if (frames.size() > tail.size() &&
                frames.compare(frames.size() - tail.size(), tail.size(), tail) == 0)
                found = true;
        }
        CHECK(found);
    }
    SECTION("JSON: one object a stack, frames as arrays") {
        INFO(j.out);
        uint64_t busy_samples = 0;
        for (const json& stack : json_lines(j.out)) {
            CHECK(stack.at("pid") == child.pid);
            CHECK(stack.at("comm") == busy_comm);
            CHECK(stack.at("count").get<uint64_t>() >= 1);
            REQUIRE(stack.at("user_stack").is_array());
            REQUIRE(stack.at("kernel_stack").is_array());
            CHECK(stack.at("user_stack_missed") == false);
            const json& user = stack.at("user_stack");
            if (!user.empty() && user[0].at("symbol") == busy_function) {
                busy_samples += stack.at("count").get<uint64_t>();
                CHECK(user[0].at("address").get<uint64_t>() != 0);
                std::string module = user[0].at("module");
                CHECK(module.size() >= 17);
                CHECK(module.substr(module.size() - 17) == "integration_tests");
            }
        }
        CHECK(busy_samples >= 1);
    }
}

TEST_CASE("profile --kernel-stacks-only: kernel frames of a child in read()", "[profile]") {
    REQUIRE_BPF();
    Child child(Child::Work::read_zero);
    Finished r = run({tool_path("profile"), "-p", child.id(), "-F", "499", "-d", "2",
                      "--kernel-stacks-only", "-o", "json"},
                     30);
    REQUIRE(r.exit_code == 0);
    INFO(r.out);
    bool read_frame = false;
    for (const json& stack : json_lines(r.out)) {
        CHECK(stack.at("pid") == child.pid);
        CHECK(stack.at("user_stack").empty()); // not collected
        for (const json& frame : stack.at("kernel_stack")) {
            if (frame.at("symbol").is_null()) continue;
            std::string symbol = frame.at("symbol");
            CHECK(frame.at("module") == "[kernel]");
            if (symbol.find("read") != std::string::npos) read_frame = true;
        }
    }
    CHECK(read_frame);
}

TEST_CASE("profile -p twice: both processes, no other", "[profile]") {
    REQUIRE_BPF();
    Child a(Child::Work::user_loop);
    Child b(Child::Work::user_loop);
    Finished r = run(
        {tool_path("profile"), "-p", a.id(), "-p", b.id(), "-F", "499", "-d", "2", "-o", "json"},
        30);
    REQUIRE(r.exit_code == 0);
    std::set<int> pids;
    for (const json& stack : json_lines(r.out))
        pids.insert(stack.at("pid").get<int>());
    CHECK(pids == std::set<int>{a.pid, b.pid});
}

TEST_CASE("profile -t: only that thread of a process with two busy threads", "[profile]") {
    REQUIRE_BPF();
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        prctl(PR_SET_NAME, busy_comm.c_str());
        std::thread other([fd = fds[1]] {
            prctl(PR_SET_NAME, "cs-prof-other");
            pid_t tid = gettid();
            if (write(fd, &tid, sizeof tid) != sizeof tid) _exit(1);
            corescope_itest::profile_busy_loop_xyz();
        });
        corescope_itest::profile_busy_loop_xyz();
    }
    REQUIRE(child > 0);
    close(fds[1]);
    pid_t tid = 0;
    bool got_tid = read(fds[0], &tid, sizeof tid) == sizeof tid;
    close(fds[0]);
    struct Reaper {
        pid_t pid;
        ~Reaper() {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    } reaper{child};
    REQUIRE(got_tid);
    Finished r =
        run({tool_path("profile"), "-t", std::to_string(tid), "-F", "499", "-d", "2", "-o", "json"},
            30);
    REQUIRE(r.exit_code == 0);
    std::vector<json> stacks = json_lines(r.out);
    CHECK_FALSE(stacks.empty());
    for (const json& stack : stacks) {
        CHECK(stack.at("pid") == child); // the process, as with -p
        CHECK(stack.at("comm") == "cs-prof-other");
    }
}

TEST_CASE("profile names the functions of a process that exited before the end", "[profile]") {
    REQUIRE_BPF();
    Child child(Child::Work::two_seconds);
    ToolProcess p({tool_path("profile"), "-p", child.id(), "-F", "499", "-d", "4", "-o", "json"});
    REQUIRE(p.wait_attached());
    int status = 0;
    REQUIRE(waitpid(child.pid, &status, 0) == child.pid); // gone, and reaped
    Finished r = p.wait(30);
    REQUIRE(r.exit_code == 0);
    INFO(r.out);
    uint64_t named = 0;
    for (const json& stack : json_lines(r.out)) {
        const json& user = stack.at("user_stack");
        if (!user.empty() &&
            user[0].at("symbol") == "corescope_itest::profile_busy_loop_for(double)")
            named += stack.at("count").get<uint64_t>();
    }
    CHECK(named >= 1);
}

TEST_CASE("profile says when stacks did not fit in --stack-storage-size", "[profile]") {
    REQUIRE_BPF();
    // Two slots for a process whose kernel paths vary: collisions and a full
    // map are certain.
    Child child(Child::Work::read_zero);
    Finished r = run({tool_path("profile"), "-p", child.id(), "-F", "999", "-d", "2",
                      "--stack-storage-size", "2", "-o", "json"},
                     30);
    REQUIRE(r.exit_code == 0);
    INFO(r.out << r.err);
    CHECK(r.err.find("stacks were not recorded") != std::string::npos);
    CHECK(r.err.find("--stack-storage-size (now 2)") != std::string::npos);
    std::vector<json> records = json_lines(r.out);
    REQUIRE_FALSE(records.empty());
    const json& last = records.back();
    CHECK(last.at("type") == "missed_stacks");
    CHECK(last.at("collisions").get<uint64_t>() + last.at("map_full").get<uint64_t>() >= 1);
    CHECK(last.at("stack_storage_size") == 2);
    // At most two keys fit in the counts map too.
    CHECK(records.size() <= 3);
}

TEST_CASE("profile holds one perf event link per CPU, and nothing after", "[profile]") {
    REQUIRE_BPF();
    for (bool one_cpu : {false, true}) {
        INFO((one_cpu ? "--cpu 0" : "every CPU"));
        std::vector<std::string> argv = {tool_path("profile")};
        if (one_cpu) argv.insert(argv.end(), {"--cpu", "0"});
        ToolProcess p(argv);
        REQUIRE(p.wait_attached());
        CHECK(bpf_link_count(p.pid()) == (one_cpu ? 1 : online_cpu_count()));
        std::set<unsigned> held = bpf_programs_held_by(p.pid());
        CHECK_FALSE(held.empty());
        Finished r = p.stop(SIGINT, 30);
        CHECK(r.exit_code == 0);
        CHECK(programs_still_loaded(held).empty());
    }
}

TEST_CASE("profile rejects a PID that does not exist and bad frequencies with exit 2",
          "[profile]") {
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    REQUIRE(gone > 0);
    waitpid(gone, nullptr, 0);
    Finished missing = run({tool_path("profile"), "-p", std::to_string(gone)});
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("'" + std::to_string(gone) + "'") != std::string::npos);
    CHECK(missing.out.empty());

    for (const char* bad : {"0", "abc", "-5", "1000001", ""}) {
        INFO(bad);
        Finished r = run({tool_path("profile"), "-F", bad});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(std::string("'") + bad + "'") != std::string::npos);
    }
    Finished both = run({tool_path("profile"), "--user-stacks-only", "--kernel-stacks-only"});
    CHECK(both.exit_code == 2);
    Finished cpu = run({tool_path("profile"), "--cpu", "100000"});
    CHECK(cpu.exit_code == 2);
    CHECK(cpu.err.find("'100000'") != std::string::npos);
}

} // namespace test_profile
