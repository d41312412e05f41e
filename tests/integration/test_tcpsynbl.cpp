// tcpsynbl against a listener of the test's own on loopback that never
// accepts: a backlog of 5 holds 6 connections (the kernel queues one more
// than the limit), so 8 connects made one after the other find the queue
// 0, 1, 2, 3, 4 and 5 long, and the last two are refused at their SYN
// (the queue is full) and never complete. Each tier must count exactly
// those 6, in the buckets 0 -> 1, 2 -> 3 and 4 -> 7, two each.
#include "harness.h"
#include "json_lines.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <algorithm>
#include <regex>
#include <filesystem>
#include <chrono>
#include <cstdlib>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace test_tcpsynbl {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int backlog = 5;
constexpr int connects = 8;
constexpr int queued = backlog + 1;

// The JSON histogram of the listener (--per-port), with the buckets it must have.
void check_listener_histogram(const std::string& out, uint16_t port) {
    int found = 0;
    for (const json& h : json_lines(out)) {
        CHECK(h.at("type") == "histogram");
        if (h.at("port") != port) continue;
        found++;
        CHECK(h.at("backlog_max") == backlog);
        CHECK(h.at("ip") == 4);
        CHECK(h.at("unit") == "backlog");
        CHECK(h.at("total") == queued);
        std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> buckets;
        for (const json& b : h.at("buckets"))
            buckets.emplace_back(b.at("low"), b.at("high"), b.at("count"));
        CHECK(buckets == std::vector<std::tuple<uint64_t, uint64_t, uint64_t>>{
                             {0, 1, 2}, {2, 3, 2}, {4, 7, 2}});
        CHECK(h.at("p99") == 7);
    }
    CHECK(found == 1);
}

} // namespace

TEST_CASE("tcpsynbl counts the backlog each queued connection found, per listening port",
          "[tcpsynbl]") {
    REQUIRE_BPF();
    QueuedListener listener(backlog);
    REQUIRE(listener.port != 0);
    ToolProcess text({tool_path("tcpsynbl"), "-4"});
    ToolProcess per_port({tool_path("tcpsynbl"), "-o", "json", "--per-port"});
    ToolProcess v6({tool_path("tcpsynbl"), "-o", "json", "-6", "--per-port"});
    for (ToolProcess* p : {&text, &per_port, &v6})
        REQUIRE(p->wait_attached());
    REQUIRE(listener.fill(connects, queued));
    Finished t = text.stop();
    Finished p = per_port.stop();
    Finished v = v6.stop();
    for (const Finished* f : {&t, &p, &v})
        CHECK(f->exit_code == 0);

    // Text: the histogram of backlog limit 5 (other listeners of that
    // limit on this machine may add to it, never take away).
    INFO(t.out);
    std::vector<std::string> out = lines(t.out);
    auto label = std::find(out.begin(), out.end(), "backlog_max = " + std::to_string(backlog));
    REQUIRE(label != out.end());
    REQUIRE(out.end() - label >= 5);
    CHECK(fields(label[1]) == std::vector<std::string>{"backlog", ":", "count", "distribution"});
    for (int row = 0; row < 3; row++) {
        auto f = fields(label[2 + row]);
        REQUIRE(f.size() >= 5);
        CHECK(std::stoull(f[4]) >= 2);
    }

    check_listener_histogram(p.out, listener.port);
    // -6: the IPv4 listener is not there.
    for (const json& h : json_lines(v.out))
        CHECK(h.at("port") != listener.port);
}

TEST_CASE("tcpsynbl counts the same through each tier of its plan", "[tcpsynbl]") {
    REQUIRE_BPF();
    QueuedListener listener(backlog);
    REQUIRE(listener.port != 0);
    std::vector<std::string> argv = {tool_path("tcpsynbl"), "-v", "-o", "json", "--per-port"};
    ToolProcess best(argv);
    ToolProcess raw(argv, ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "fentry,kprobe,tp_btf", 1); });
    ToolProcess tp(argv, ToolProcess::Stdout::pipe,
                   [] { setenv("CORESCOPE_SKIP_ATTACH", "fentry,kprobe,tp_btf,raw_tp", 1); });
    for (ToolProcess* p : {&best, &raw, &tp})
        REQUIRE(p->wait_attached());
    REQUIRE(listener.fill(connects, queued));
    Finished b = best.stop();
    Finished r = raw.stop();
    Finished t = tp.stop();
    // The best this kernel has: fentry where allowed, else kprobes, else
    // the wake-up's BTF tracepoint.
    INFO(b.err);
    CHECK((b.err.find("fentry:tcp_v4_syn_recv_sock") != std::string::npos ||
           b.err.find("kprobe:tcp_v4_syn_recv_sock") != std::string::npos ||
           b.err.find("tp_btf:sk_data_ready") != std::string::npos));
    CHECK(r.err.find("raw_tp:sk_data_ready") != std::string::npos);
    CHECK(t.err.find("tracepoint:sock:sk_data_ready") != std::string::npos);
    for (const Finished* f : {&b, &r, &t}) {
        CHECK(f->exit_code == 0);
        check_listener_histogram(f->out, listener.port);
    }
}

// -T, --btf and -d, which the cases above do not take: the time line opens
// the summary, the kernel's types come from a copy of its BTF, and the
// tool ends by itself after -d.
TEST_CASE("tcpsynbl -T with --btf ends by itself after -d, with a loopback session's events",
          "[tcpsynbl]") {
    REQUIRE_BPF();
    TimedSummary run = timed_summary_with_btf_copy("tcpsynbl");
    const std::vector<std::string>& out = run.lines;
    INFO(run.out);
    // The session's handshake, on a listener of backlog 4, found it empty.
    auto label = std::find(out.begin(), out.end(), "backlog_max = 4");
    REQUIRE(label != out.end());
    REQUIRE(out.end() - label >= 3);
    auto row = fields(label[2]);
    REQUIRE(row.size() >= 5);
    CHECK(row[0] == "0");
    CHECK(std::stoull(row[4]) >= 1);
}

} // namespace test_tcpsynbl
