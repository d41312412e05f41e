// -o prometheus on the histogram and counter tools that have no collector in
// corescope export (test_export.cpp covers those that do): every tool runs at
// once with -o prometheus while one workload of the test's own makes what
// each counts (forks, opens of a missing file, reads, O_DIRECT writes to a
// loop device of its own, a flushed write, a loopback TCP session, queued
// connections, calls of a library function); each prints its exposition
// when interrupted, which promtool check metrics accepts, whose structure
// holds (cumulative buckets, +Inf equal to _count, no series twice), and in
// which the series the workload fed holds at least what it made.
#include "exposition_check.h"
#include "func_workload.h"
#include "harness.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace test_prometheus {

using namespace itest;

namespace {

constexpr int forks = 20;
constexpr int missing_opens = 30;
constexpr int reads = 50;
constexpr int direct_ios = 40;
constexpr size_t io_size = 8192;
constexpr int backlog = 5;
constexpr int queued = 3;
constexpr int slow_calls = 3; // fc_slow: 20 ms each
constexpr int alpha_calls = 7;

// A file of size bytes on disk, written, synced and dropped from the page
// cache, so that reading it goes through readahead.
std::string cold_file(size_t size) {
    std::string path = "/var/tmp/" + unique_token("prometheus-cold") + ".dat";
    int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    std::string block(1 << 20, 'r');
    for (size_t done = 0; done < size; done += block.size())
        REQUIRE(write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
    REQUIRE(fsync(fd) == 0);
    REQUIRE(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    close(fd);
    return path;
}

struct Case {
    std::vector<std::string> args; // the tool and its arguments, before -o prometheus
    std::string series;            // a series' line start (or a family's `name{`)
    double at_least;               // the sum of those series is at least this
};

} // namespace

TEST_CASE("-o prometheus: each histogram and counter tool prints what the workload made, and "
          "promtool accepts it",
          "[prometheus]") {
    Finished refused = run({tool_path("cpudist"), "-o", "prometheus", "-P"});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Catch::Matchers::Contains("-P"));
    CHECK(run({tool_path("hardirqs"), "-o", "prometheus", "-C"}).exit_code == 2);
    CHECK(run({tool_path("runqlen"), "-o", "prometheus", "-O"}).exit_code == 2);
    REQUIRE_BPF();
    if (!have_command("promtool"))
        SKIP_CASE("needs promtool (scripts/setup.sh installs prometheus)");

    LoopDisk disk(16 << 20);
    REQUIRE_FALSE(disk.path().empty());
    std::string cold = cold_file(4 << 20);
    std::string warm = "/var/tmp/" + unique_token("prometheus-warm") + ".dat";
    { std::ofstream(warm) << std::string(64 << 10, 'w'); }
    std::string missing = "/nonexistent/" + unique_token("prometheus-open");
    std::string lib = func_library_path();
    QueuedListener listener(backlog);
    REQUIRE(listener.port != 0);
    FuncWorkload funcs(alpha_calls, 0, slow_calls, 0);

    const std::vector<Case> cases = {
        {{"cpudist"}, "corescope_oncpu_duration_seconds_count ", 1},
        {{"hardirqs"}, "corescope_hardirqs_total{", 1},
        {{"softirqs"}, "corescope_softirqs_total{vector=\"net_rx\"} ", 1},
        {{"funclatency", lib + ":fc_slow"},
         "corescope_function_latency_seconds_count{function=\"" + lib + ":fc_slow\"} ",
         slow_calls},
        {{"funclatency", lib + ":fc_slow"},
         "corescope_function_latency_seconds_sum{function=\"" + lib + ":fc_slow\"} ",
         slow_calls * 0.02},
        {{"fsdist"}, "corescope_fs_operation_latency_seconds_count{operation=\"read\"} ", reads},
        // Every task name together: the loop device's requests are issued
        // by the writer or by a worker on its behalf.
        {{"bitesize"}, "corescope_block_io_size_bytes_count{", direct_ios},
        {{"bitesize"},
         "corescope_block_io_size_bytes_sum{",
         direct_ios * static_cast<double>(io_size)},
        {{"tcprtt"}, "corescope_tcp_rtt_seconds_count ", 1},
        {{"wqlat"},
         "corescope_workqueue_latency_seconds_count{workqueue=\"" + disk.name() + "\"} ",
         1},
        {{"vfsstat"}, "corescope_file_calls_total{kind=\"open\"} ", missing_opens},
        {{"vfscount"}, "corescope_syscalls_total{syscall=\"openat\"} ", missing_opens},
        {{"cachestat"}, "corescope_page_cache_hits_total ", 1},
        {{"funccount", lib + ":fc_alpha"}, "corescope_function_calls_total{", alpha_calls},
        {{"runqlen"}, "corescope_runqueue_length_count ", 1},
        {{"biopattern"},
         "corescope_block_io_requests_total{device=\"" + disk.name() + "\",",
         direct_ios},
        {{"biopattern"},
         "corescope_block_io_bytes_total{device=\"" + disk.name() + "\"} ",
         direct_ios * static_cast<double>(io_size)},
        {{"readahead"}, "corescope_readahead_pages_total ", 1},
        {{"pidpersec"}, "corescope_new_processes_total ", forks},
        {{"tcpsynbl"},
         "corescope_tcp_listen_backlog_count{backlog_max=\"" + std::to_string(backlog) + "\"} ",
         queued},
        {{"tcpsynbl"},
         "corescope_tcp_listen_backlog_sum{backlog_max=\"" + std::to_string(backlog) + "\"} ",
         0 + 1 + 2},
    };
    // One process per command line (two cases may read one exposition).
    std::map<std::vector<std::string>, std::unique_ptr<ToolProcess>> tools;
    for (const Case& c : cases) {
        if (tools.count(c.args)) continue;
        std::vector<std::string> argv = {tool_path(c.args[0]), "-o", "prometheus"};
        argv.insert(argv.end(), c.args.begin() + 1, c.args.end());
        tools[c.args] = std::make_unique<ToolProcess>(argv);
    }
    for (auto& [args, tool] : tools) {
        INFO(args[0]);
        REQUIRE(tool->wait_attached());
    }

    // The workload.
    for (int i = 0; i < forks; i++) {
        pid_t child = fork();
        if (child == 0) _exit(0);
        REQUIRE(child > 0);
        REQUIRE(waitpid(child, nullptr, 0) == child);
    }
    for (int i = 0; i < missing_opens; i++)
        CHECK(open(missing.c_str(), O_RDONLY | O_CLOEXEC) < 0);
    {
        int fd = open(warm.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        char buf[4096];
        for (int i = 0; i < reads; i++)
            REQUIRE(pread(fd, buf, sizeof buf, 0) == static_cast<ssize_t>(sizeof buf));
        close(fd);
    }
    {
        int fd = open(cold.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        static char buf[1 << 16];
        while (read(fd, buf, sizeof buf) > 0) {
        }
        close(fd);
    }
    REQUIRE(direct_writes(disk.path(), io_size, direct_ios));
    {
        int fd = open(warm.c_str(), O_WRONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(pwrite(fd, "x", 1, 0) == 1);
        REQUIRE(fdatasync(fd) == 0); // a disk interrupt: hardirqs
        close(fd);
    }
    uint16_t session_port = 0;
    REQUIRE(loopback_session(&session_port));
    REQUIRE(listener.fill(queued, queued));
    REQUIRE(funcs.go() == 0);

    std::map<std::vector<std::string>, Finished> outputs;
    for (auto& [args, tool] : tools)
        outputs[args] = tool->stop();
    unlink(cold.c_str());
    unlink(warm.c_str());

    for (const auto& [args, f] : outputs) {
        INFO(args[0] << ": " << f.out << f.err);
        CHECK(f.exit_code == 0);
        Finished check = promtool_check(f.out);
        INFO(check.out << check.err);
        CHECK(check.exit_code == 0);
        check_structure(f.out);
    }
    for (const Case& c : cases) {
        const Finished& f = outputs[c.args];
        INFO(c.args[0] << ": " << c.series << "\n" << f.out);
        CHECK(series_sum(f.out, c.series) >= c.at_least);
    }
}

} // namespace test_prometheus
