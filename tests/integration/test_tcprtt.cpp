// tcprtt against round trips of a known length: a connection between two
// network namespaces of the test's own joined by a link that delays every
// packet 20 ms each way (delay_line.h: tun devices and a thread of the
// test; this machine has no sch_netem), so every smoothed RTT on it is 40
// ms and a little more: the 32768 -> 65535 usecs bucket, 32 -> 63 msecs.
#include "delay_line.h"
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <netinet/in.h>
#include <filesystem>
#include <arpa/inet.h>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_tcprtt {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int delay_ms = 20;    // each way
constexpr int round_trips = 20; // request and reply, 100 bytes each
constexpr uint16_t server_port = 47391;
constexpr uint16_t client_port = 47392;

#define REQUIRE_DELAY_LINE(line)                                                                   \
    do {                                                                                           \
        if (!have_command("ip")) SKIP_CASE("needs ip (scripts/setup.sh installs iproute2)");       \
        REQUIRE(line.ok());                                                                        \
    } while (0)

// In a child: a server in far(), a client in near() bound to client_port,
// round_trips exchanges, then both close. True when all went through.
bool exchange(const DelayLine& line) {
    pid_t child = fork();
    if (child == 0) {
        if (!line.far().enter()) _exit(1);
        int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int on = 1;
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in server = DelayLine::address(DelayLine::far_addr, server_port);
        if (bind(listener, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0 ||
            listen(listener, 1) != 0)
            _exit(2);
        if (!line.near().enter()) _exit(3);
        int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        setsockopt(client, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in local = DelayLine::address(DelayLine::near_addr, client_port);
        if (bind(client, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) _exit(4);
        if (connect(client, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) _exit(5);
        int conn = accept(listener, nullptr, nullptr);
        if (conn < 0) _exit(6);
        char buf[100] = {};
        auto full = [&](int fd) {
            size_t got = 0;
            while (got < sizeof buf) {
                ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
                if (n <= 0) return false;
                got += static_cast<size_t>(n);
            }
            return true;
        };
        for (int i = 0; i < round_trips; i++) {
            if (send(client, buf, sizeof buf, 0) != sizeof buf || !full(conn)) _exit(7);
            if (send(conn, buf, sizeof buf, 0) != sizeof buf || !full(client)) _exit(8);
        }
        close(client);
        close(conn);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Row {
    uint64_t low, high, count;
};

// The rows of each text histogram, keyed by the label line above them.
std::map<std::string, std::vector<Row>> text_histograms(const std::string& text) {
    static const std::regex row(R"(^\s*(\d+) -> (\d+)\s+: (\d+)\s+\|\**\s*\|$)");
    std::map<std::string, std::vector<Row>> out;
    std::string label;
    for (const std::string& l : lines(text)) {
        std::smatch m;
        if (std::regex_match(l, m, row))
            out[label].push_back({std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3])});
        else if (!l.empty() && l.find(": count") == std::string::npos)
            label = l;
    }
    return out;
}

// Most samples are in [low, high] (a loaded machine may delay packets by
// more than the bucket's 25 ms of room: the forwarding thread must run),
// and none is below it, since the link never delays less.
void check_in_bucket(const std::vector<Row>& rows, uint64_t low, uint64_t high) {
    uint64_t total = 0, in = 0, below = 0;
    for (const Row& r : rows) {
        total += r.count;
        if (r.low == low && r.high == high) in += r.count;
        if (r.high < low) below += r.count;
    }
    INFO("total " << total << ", in " << low << " -> " << high << ": " << in);
    CHECK(total >= round_trips);
    CHECK(below == 0);
    CHECK(in * 10 >= total * 8);
}

std::vector<Row> json_rows(const json& h) {
    std::vector<Row> rows;
    for (const json& b : h.at("buckets"))
        rows.push_back({b.at("low").get<uint64_t>(), b.at("high").get<uint64_t>(),
                        b.at("count").get<uint64_t>()});
    return rows;
}

} // namespace

TEST_CASE("tcprtt puts the round trips of a link with 20 ms each way in the 32-64 ms bucket, "
          "with each filter's both sides",
          "[tcprtt]") {
    REQUIRE_BPF();
    DelayLine line("cs-tcprtt", delay_ms);
    REQUIRE_DELAY_LINE(line);
    std::string sport = std::to_string(server_port);
    std::string far = DelayLine::far_addr;
    std::string near = DelayLine::near_addr;
    // The client's samples (its peer is far), per local address, with the mean.
    ToolProcess text({tool_path("tcprtt"), "-4", "-A", far, "-b", "-e"});
    // The server's samples (local port sport), per remote address, in msecs.
    ToolProcess server({tool_path("tcprtt"), "-o", "json", "-m", "-L", sport, "-B"});
    // The client's again (remote port sport, local address near), unsplit.
    ToolProcess client({tool_path("tcprtt"), "-o", "json", "-e", "-P", sport, "-a", near});
    // Nothing: the connection is IPv4.
    ToolProcess v6({tool_path("tcprtt"), "-o", "json", "-6", "-P", sport});
    for (ToolProcess* p : {&text, &server, &client, &v6})
        REQUIRE(p->wait_attached());
    REQUIRE(exchange(line));
    Finished t = text.stop();
    Finished s = server.stop();
    Finished c = client.stop();
    Finished v = v6.stop();
    for (const Finished* f : {&t, &s, &c, &v})
        CHECK(f->exit_code == 0);

    // Text: one histogram, of the near address, with its mean in the label.
    auto hists = text_histograms(t.out);
    INFO(t.out);
    REQUIRE(hists.size() == 1);
    const std::string& label = hists.begin()->first;
    INFO("label: [" << label << "]");
    const std::string prefix = "Local Address = 10.157.63.1 [avg = ";
    REQUIRE(label.rfind(prefix, 0) == 0);
    REQUIRE(label.size() > prefix.size() + 7);
    CHECK(label.substr(label.size() - 7) == " usecs]");
    double avg_us = std::stod(label.substr(prefix.size()));
    CHECK(avg_us >= 2 * delay_ms * 1000);
    CHECK(avg_us < 65536);
    check_in_bucket(hists.begin()->second, 32768, 65535);
    uint64_t text_total = 0;
    for (const Row& r : hists.begin()->second)
        text_total += r.count;

    // -L: the server's side only, so its one peer is near, never far.
    bool saw_near = false;
    for (const json& h : json_lines(s.out)) {
        CHECK(h.at("type") == "histogram");
        CHECK(h.at("unit") == "msecs");
        CHECK(h.at("raddr") != far);
        if (h.at("raddr") != near) continue; // another test's port, elsewhere
        saw_near = true;
        CHECK(h.at("ip") == 4);
        CHECK(h.at("p50") == 63);
        check_in_bucket(json_rows(h), 32, 63);
    }
    CHECK(saw_near);

    // -P and -a: the client's side, the same samples as the text run's.
    std::vector<json> records = json_lines(c.out);
    REQUIRE(records.size() == 1);
    const json& h = records[0];
    CHECK(h.at("unit") == "usecs");
    CHECK(!h.contains("laddr"));
    CHECK(h.at("total") == text_total);
    CHECK(h.at("avg").get<double>() >= 2 * delay_ms * 1000);
    CHECK(h.at("avg").get<double>() == Approx(avg_us).margin(0.1));
    check_in_bucket(json_rows(h), 32768, 65535);

    // -6: an idle histogram, still printed in JSON.
    records = json_lines(v.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("total") == 0);
}

TEST_CASE("tcprtt reads the RTT through each of its tiers", "[tcprtt]") {
    REQUIRE_BPF();
    DelayLine line("cs-tcprtt", delay_ms);
    REQUIRE_DELAY_LINE(line);
    // CORESCOPE_SKIP_ATTACH takes the lower tiers on a kernel that has the
    // higher ones: the tracefs tier reads addresses from the record's
    // sockaddr, the others from the socket.
    std::vector<std::string> argv = {tool_path("tcprtt"),  "-v", "-o", "json", "-b", "-B", "-a",
                                     DelayLine::near_addr, "1"};
    ToolProcess raw(argv, ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf", 1); });
    ToolProcess tp(argv, ToolProcess::Stdout::pipe,
                   [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf,raw_tp", 1); });
    REQUIRE(raw.wait_attached());
    REQUIRE(tp.wait_attached());
    REQUIRE(exchange(line));
    // Each prints every second: wait for the histogram, not for time.
    REQUIRE(raw.wait_for_output("\"raddr\":\"10.157.63.2\""));
    REQUIRE(tp.wait_for_output("\"raddr\":\"10.157.63.2\""));
    Finished r = raw.stop();
    Finished t = tp.stop();
    CHECK(r.err.find("raw_tp:tcp_probe") != std::string::npos);
    CHECK(t.err.find("tracepoint:tcp:tcp_probe") != std::string::npos);
    for (const Finished* f : {&r, &t}) {
        CHECK(f->exit_code == 0);
        std::vector<Row> rows;
        for (const json& h : json_lines(f->out)) {
            CHECK(h.at("laddr") == DelayLine::near_addr);
            CHECK(h.at("raddr") == DelayLine::far_addr);
            CHECK(h.at("ip") == 4);
            for (const Row& row : json_rows(h))
                rows.push_back(row);
        }
        check_in_bucket(rows, 32768, 65535);
    }
}

TEST_CASE("tcprtt refuses bad addresses and families that cannot match", "[tcprtt]") {
    Finished bad = run({tool_path("tcprtt"), "-a", "10.1.2"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("'10.1.2'") != std::string::npos);
    Finished clash = run({tool_path("tcprtt"), "-4", "-A", "::1"});
    CHECK(clash.exit_code == 2);
    CHECK(clash.err.find("-4") != std::string::npos);
}

// -T, --btf and -d, which the cases above do not take: the time line opens
// the summary, the kernel's types come from a copy of its BTF, and the
// tool ends by itself after -d.
TEST_CASE("tcprtt -T with --btf ends by itself after -d, with a loopback session's events",
          "[tcprtt]") {
    REQUIRE_BPF();
    TimedSummary run = timed_summary_with_btf_copy("tcprtt");
    const std::vector<std::string>& out = run.lines;
    INFO(run.out);
    // The session's segments (other traffic may add to them).
    uint64_t counted = 0;
    std::regex row(R"(^\s*\d+ -> \d+\s*: (\d+))");
    for (const std::string& line : out) {
        std::smatch m;
        if (std::regex_search(line, m, row)) counted += std::stoull(m[1]);
    }
    CHECK(counted >= 2);
}

} // namespace test_tcprtt
