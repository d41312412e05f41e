// tcpconnlat against connects this test's children make: child A, on the
// host's loopback, connects over IPv4 and IPv6 to listeners of the test's
// own and once to a port nobody listens on (refused); child B, in a network
// namespace of the test's own whose nftables drop every SYN until B lifts
// the rule 200 ms later, connects once: its SYN is sent again after the
// kernel's initial retransmission timeout (1 s), so its latency is at least
// that. Instances with --min, the positional min_ms, -L, -F, -x, -p, -4 and
// -6 run beside an unfiltered one.
#include "harness.h"
#include "json_lines.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <fcntl.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace test_tcpconnlat {

using namespace itest;
using nlohmann::json;

namespace {

// The kernel's initial SYN retransmission timeout (TCP_TIMEOUT_INIT).
constexpr double syn_timeout_ms = 1000;

// A TCP socket bound to an ephemeral loopback port of family; listening
// unless told otherwise (then connects to it are refused).
struct Socket {
    int fd = -1;
    uint16_t port = 0;
    Socket(int family, bool listening) {
        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage addr = loopback(family, 0);
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            (listening && listen(fd, 16) != 0))
            throw std::runtime_error("cannot open a loopback socket");
        port = local_port(fd);
    }
    ~Socket() { close(fd); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
};

double ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// What a child reports through its pipe.
struct Report {
    uint16_t v4_port = 0, v6_port = 0; // A's source ports
    double v4_ms = 0, v6_ms = 0;       // A's connect() calls, measured
    bool refused = false;              // A's third connect
    uint16_t slow_port = 0;            // B's source port
    uint16_t slow_server = 0;          // B's listener, in its namespace
    double slow_ms = 0;                // B's connect, from connect() to connected
};

// Connects to port on the loopback of family; the source port, and the
// call's time in *ms.
uint16_t timed_connect(int family, uint16_t port, double* ms) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage addr = loopback(family, port);
    auto start = std::chrono::steady_clock::now();
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    *ms = ms_since(start);
    uint16_t sport = rc == 0 ? local_port(fd) : 0;
    close(fd);
    return sport;
}

std::vector<json> records_of(const std::string& out) {
    std::vector<json> found;
    for (const json& r : json_lines(out))
        if (r.value("type", "") != "lost") found.push_back(r);
    return found;
}

// The record of the connect from source port sport to dport, or null.
const json* connect_of(const std::vector<json>& records, uint16_t sport, uint16_t dport) {
    for (const json& r : records)
        if (r.at("lport") == sport && r.at("dport") == dport) return &r;
    return nullptr;
}

int count_to(const std::vector<json>& records, uint16_t dport) {
    int n = 0;
    for (const json& r : records)
        n += r.at("dport") == dport;
    return n;
}

} // namespace

TEST_CASE("tcpconnlat measures each connect's latency with its process, and its filters keep "
          "what they want",
          "[tcpconnlat]") {
    REQUIRE_BPF();
    if (!have_command("nft") || !have_command("ip")) SKIP_CASE("needs nft and ip");
    NetNamespace ns("cs-connlat");
    REQUIRE(ns.ok());
    // Every pure SYN in the namespace is dropped until B deletes the table.
    REQUIRE(ns.exec("nft add table inet cs_connlat"));
    REQUIRE(
        ns.exec("nft add chain inet cs_connlat input '{ type filter hook input priority 0; }'"));
    REQUIRE(ns.exec("nft add rule inet cs_connlat input 'tcp flags & (syn | ack) == syn' drop"));
    Socket listen4(AF_INET, true), listen6(AF_INET6, true), closed(AF_INET, false);
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    GatedChild a(
        [&] {
            Report r;
            double refused_ms;
            r.v4_port = timed_connect(AF_INET, listen4.port, &r.v4_ms);
            r.v6_port = timed_connect(AF_INET6, listen6.port, &r.v6_ms);
            r.refused = timed_connect(AF_INET, closed.port, &refused_ms) == 0;
            return write(pipefd[1], &r, sizeof r) == sizeof r ? 0 : 1;
        },
        "cs-connlat-a");
    GatedChild b(
        [&] {
            Report r;
            if (!ns.enter()) return 2;
            Socket server(AF_INET, true);
            r.slow_server = server.port;
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            sockaddr_storage addr = loopback(AF_INET, server.port);
            auto start = std::chrono::steady_clock::now();
            if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ||
                errno != EINPROGRESS)
                return 3;
            usleep(200000);
            if (!ns.exec("nft delete table inet cs_connlat")) return 4;
            pollfd p{fd, POLLOUT, 0};
            if (poll(&p, 1, 20000) != 1) return 5;
            r.slow_ms = ms_since(start);
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return 6;
            r.slow_port = local_port(fd);
            close(fd);
            return write(pipefd[1], &r, sizeof r) == sizeof r ? 0 : 1;
        },
        "cs-connlat-b");
    std::string a_pid = std::to_string(a.pid());
    ToolProcess all({tool_path("tcpconnlat"), "-o", "json"});
    ToolProcess slow({tool_path("tcpconnlat"), "-T", "-L", "500"});
    ToolProcess slow_json({tool_path("tcpconnlat"), "-o", "json", "--min", "500"});
    ToolProcess of_a({tool_path("tcpconnlat"), "-o", "json", "-F", "-p", a_pid});
    ToolProcess failed({tool_path("tcpconnlat"), "-o", "json", "-x", "-4"});
    ToolProcess v6({tool_path("tcpconnlat"), "-o", "json", "-6"});
    for (ToolProcess* p : {&all, &slow, &slow_json, &of_a, &failed, &v6})
        REQUIRE(p->wait_attached());
    REQUIRE(a.run() == 0);
    REQUIRE(b.run() == 0);
    Report ra, rb;
    REQUIRE(read(pipefd[0], &ra, sizeof ra) == sizeof ra);
    REQUIRE(read(pipefd[0], &rb, sizeof rb) == sizeof rb);
    close(pipefd[0]);
    close(pipefd[1]);
    REQUIRE(ra.refused);
    REQUIRE(ra.v4_port != 0);
    REQUIRE(ra.v6_port != 0);
    REQUIRE(rb.slow_port != 0);
    INFO("B's connect took " << rb.slow_ms << " ms");
    REQUIRE(rb.slow_ms >= syn_timeout_ms);

    // The slow connect's end (ESTABLISHED) came last: once the unfiltered
    // instance shows it, every instance's programs have run for it.
    REQUIRE(all.wait_for_output("\"dport\":" + std::to_string(rb.slow_server)));
    Finished r = all.stop();
    CHECK(r.exit_code == 0);
    std::vector<json> records = records_of(r.out);
    INFO(r.out);
    const json* fast4 = connect_of(records, ra.v4_port, listen4.port);
    const json* fast6 = connect_of(records, ra.v6_port, listen6.port);
    const json* delayed = connect_of(records, rb.slow_port, rb.slow_server);
    REQUIRE(fast4);
    REQUIRE(fast6);
    REQUIRE(delayed);
    for (const json* e : {fast4, fast6}) {
        CHECK(e->at("pid") == a.pid());
        CHECK(e->at("tid") == a.pid());
        CHECK(e->at("uid") == getuid());
        CHECK(e->at("comm") == "cs-connlat-a");
        CHECK(e->at("failed") == false);
        CHECK(e->at("time").is_string());
    }
    CHECK(fast4->at("ip") == 4);
    CHECK(fast4->at("saddr") == "127.0.0.1");
    CHECK(fast4->at("daddr") == "127.0.0.2");
    CHECK(fast4->at("latency_ms").get<double>() > 0);
    CHECK(fast4->at("latency_ms").get<double>() <= ra.v4_ms);
    CHECK(fast6->at("ip") == 6);
    CHECK(fast6->at("saddr") == "::1");
    CHECK(fast6->at("daddr") == "::1");
    CHECK(fast6->at("latency_ms").get<double>() > 0);
    CHECK(fast6->at("latency_ms").get<double>() <= ra.v6_ms);
    // B's connect: its owner is known although the handshake ended in
    // softirq context, and its latency is the SYN's retransmission.
    CHECK(delayed->at("pid") == b.pid());
    CHECK(delayed->at("comm") == "cs-connlat-b");
    CHECK(delayed->at("saddr") == "127.0.0.1");
    CHECK(delayed->at("daddr") == "127.0.0.2");
    CHECK(delayed->at("latency_ms").get<double>() >= syn_timeout_ms);
    CHECK(delayed->at("latency_ms").get<double>() <= rb.slow_ms);
    // A failed connect is not shown without -F or -x.
    CHECK(count_to(records, closed.port) == 0);

    // The filtered instances may also show other processes' connects (the
    // host is shared): only the test's own ports count.
    auto ours = [&](const std::vector<json>& in) {
        std::vector<json> out;
        for (const json& e : in)
            if (e.at("dport") == listen4.port || e.at("dport") == listen6.port ||
                e.at("dport") == closed.port || e.at("dport") == rb.slow_server)
                out.push_back(e);
        return out;
    };

    // --min 500: the slow connect only.
    Finished rs = slow_json.stop();
    std::vector<json> slow_records = ours(records_of(rs.out));
    REQUIRE(slow_records.size() == 1);
    CHECK(slow_records[0].at("lport") == rb.slow_port);

    // Text, -T -L and the positional min_ms 500: the slow connect only, with
    // its LPORT.
    Finished rt = slow.stop();
    std::vector<std::string> text = lines(rt.out);
    REQUIRE(!text.empty());
    CHECK(lines_containing(rt.out, "cs-connlat-a").empty());
    text = {text[0]};
    for (const std::string& line : lines_containing(rt.out, "cs-connlat-b"))
        text.push_back(line);
    REQUIRE(text.size() == 2);
    CHECK(text[0] == "TIME     PID     COMM             IP SADDR            LPORT DADDR           "
                     " DPORT LAT(ms)");
    std::vector<std::string> f = fields(text[1]);
    REQUIRE(f.size() == 9);
    CHECK(f[1] == std::to_string(b.pid()));
    CHECK(f[2] == "cs-connlat-b");
    CHECK(f[3] == "4");
    CHECK(f[4] == "127.0.0.1");
    CHECK(f[5] == std::to_string(rb.slow_port));
    CHECK(f[6] == "127.0.0.2");
    CHECK(f[7] == std::to_string(rb.slow_server));
    CHECK(std::stod(f[8]) >= syn_timeout_ms);

    // -F -p A: A's three connects, the refused one marked failed; not B's.
    Finished rp = of_a.stop();
    std::vector<json> a_records = records_of(rp.out); // -p: A's only
    CHECK(a_records.size() == 3);
    for (const json& e : a_records)
        CHECK(e.at("pid") == a.pid());
    CHECK(connect_of(a_records, ra.v4_port, listen4.port));
    CHECK(connect_of(a_records, ra.v6_port, listen6.port));
    REQUIRE(count_to(a_records, closed.port) == 1);
    for (const json& e : a_records)
        CHECK(e.at("failed") == (e.at("dport") == closed.port));

    // -x -4: the refused connect only.
    Finished rx = failed.stop();
    std::vector<json> failed_records = ours(records_of(rx.out));
    REQUIRE(failed_records.size() == 1);
    CHECK(failed_records[0].at("dport") == closed.port);
    CHECK(failed_records[0].at("failed") == true);
    CHECK(failed_records[0].at("pid") == a.pid());

    // -6: A's IPv6 connect only.
    Finished r6 = v6.stop();
    std::vector<json> v6_records = records_of(r6.out);
    CHECK(count_to(v6_records, listen6.port) == 1);
    CHECK(count_to(v6_records, listen4.port) == 0);
    CHECK(count_to(v6_records, rb.slow_server) == 0);
    for (const json& e : v6_records)
        CHECK(e.at("ip") == 6);
    for (const json& e : records_of(rx.out))
        CHECK(e.at("failed") == true);
}

TEST_CASE("tcpconnlat rejects a bad or doubled minimum and -4 with -6 with exit 2",
          "[tcpconnlat]") {
    Finished bad = run({tool_path("tcpconnlat"), "--min", "abc"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("'abc'") != std::string::npos);
    Finished twice = run({tool_path("tcpconnlat"), "--min", "1", "2"});
    CHECK(twice.exit_code == 2);
    CHECK(twice.err.find("twice") != std::string::npos);
    CHECK(run({tool_path("tcpconnlat"), "-4", "-6"}).exit_code == 2);
}

} // namespace test_tcpconnlat
