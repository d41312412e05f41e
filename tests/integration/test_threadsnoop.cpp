// threadsnoop against a child of this test that makes a known number of
// threads through pthread_create, starting in a function of this binary.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <set>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_threadsnoop {

using namespace itest;
using nlohmann::json;

// The threads' start routine, named in the binary's symbol table.
extern "C" __attribute__((noinline)) void* threadsnoop_test_start(void* arg) {
    return arg;
}

namespace {

constexpr int thread_count = 5;

// The C library this process maps (and its children use), from its maps.
std::string own_libc() {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
        auto slash = line.find('/');
        if (slash != std::string::npos && line.find("/libc.so") != std::string::npos)
            return line.substr(slash);
    }
    return {};
}

// A child named comm that makes thread_count threads, one after the other,
// then waits until its pipe closes (so that its mappings are there to name
// the routine while the tool prints), and exits 0.
pid_t threads_child(const std::string& comm, int hold_fd, int unused_fd) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    close(unused_fd);
    prctl(PR_SET_NAME, comm.c_str());
    for (int i = 0; i < thread_count; i++) {
        pthread_t t;
        if (pthread_create(&t, nullptr, threadsnoop_test_start, nullptr) != 0 ||
            pthread_join(t, nullptr) != 0)
            _exit(1);
    }
    char c;
    (void)!read(hold_fd, &c, 1);
    _exit(0);
}

} // namespace

TEST_CASE("threadsnoop shows each new thread with its creator, its ID and its start routine",
          "[threadsnoop]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("threads-");
    ToolProcess text({tool_path("threadsnoop"), "-n", comm});
    // JSON with --libc naming the library: its routines must be named too.
    std::string libc = own_libc();
    REQUIRE(!libc.empty());
    ToolProcess jsonl({tool_path("threadsnoop"), "-o", "json", "-n", comm, "--libc", libc});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    int hold[2];
    REQUIRE(pipe(hold) == 0);
    pid_t pid = threads_child(comm, hold[0], hold[1]);
    close(hold[0]);
    auto enough = [&](ToolProcess& tool, const std::string& needle) {
        double deadline = now_s() + 20;
        while (now_s() < deadline) {
            if (lines_containing(tool.output_so_far(), needle).size() >= thread_count) return true;
            usleep(50 * 1000);
        }
        return false;
    };
    bool json_seen = enough(jsonl, "\"pid\":" + std::to_string(pid) + ",");
    bool text_seen = enough(text, comm);
    close(hold[1]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    Finished t = text.stop();
    Finished j = jsonl.stop();
    REQUIRE(json_seen);
    REQUIRE(text_seen);
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);

    std::vector<json> events = json_lines(j.out);
    REQUIRE(events.size() == thread_count);
    std::set<long> new_tids;
    for (const json& e : events) {
        CHECK(e.at("pid") == pid);
        CHECK(e.at("tid") == pid); // the main thread made them all
        CHECK(e.at("comm") == comm);
        long tid = e.at("new_tid");
        CHECK(tid != pid);
        new_tids.insert(tid);
        CHECK(e.at("start_address").is_number());
        CHECK(e.at("start_routine") == "threadsnoop_test_start");
    }
    CHECK(new_tids.size() == thread_count);

    CHECK(lines(t.out)[0].find("PID     TID     COMM             NEWTID  FUNC") == 0);
    auto rows = lines_containing(t.out, comm);
    REQUIRE(rows.size() == thread_count);
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        REQUIRE(f.size() == 5);
        CHECK(f[0] == std::to_string(pid));
        CHECK(new_tids.count(std::stol(f[3])) == 1);
        CHECK(f[4] == "threadsnoop_test_start");
    }
}

} // namespace test_threadsnoop
