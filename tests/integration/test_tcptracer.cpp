// tcptracer against TCP sessions this test runs itself (tcp_session.h): a
// named client child connects to a named server child, which accepts; the
// client closes first, then the server. Each session is four events: the
// client's connect and close, the server's accept and close, each with its
// owner (the connect completes in softirq context, under whichever task
// ran). Instances with -p and -6 run beside an unfiltered one.
#include "harness.h"
#include "json_lines.h"
#include "tcp_session.h"

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace test_tcptracer {

using namespace itest;
using nlohmann::json;

namespace {

// The records about a session: those with the server port at either end.
std::vector<json> session_records(const std::string& out, uint16_t server_port) {
    std::vector<json> found;
    for (const json& r : json_lines(out))
        if (r.value("type", "") != "lost" &&
            (r.at("sport") == server_port || r.at("dport") == server_port))
            found.push_back(r);
    return found;
}

// The session's last event: the server's close.
bool server_closed(const std::string& out, uint16_t server_port) {
    std::string text = out.substr(0, out.rfind('\n') + 1);
    for (const json& r : session_records(text, server_port))
        if (r.at("type") == "close" && r.at("sport") == server_port) return true;
    return false;
}

bool wait_server_closed(ToolProcess& p, uint16_t server_port) {
    for (double deadline = now_s() + 15; now_s() < deadline; usleep(10000))
        if (server_closed(p.output_so_far(), server_port)) return true;
    return false;
}

} // namespace

TEST_CASE("tcptracer shows each connection's connect, accept and closes with their owners, and "
          "-p and -6 keep theirs only",
          "[tcptracer]") {
    REQUIRE_BPF();
    TcpSession v4(AF_INET, 100, 100);
    TcpSession v6(AF_INET6, 100, 100);
    ToolProcess all({tool_path("tcptracer"), "-o", "json"});
    ToolProcess text({tool_path("tcptracer"), "-T", "-p", std::to_string(v4.client_pid), "-p",
                      std::to_string(v4.server_pid)});
    ToolProcess server({tool_path("tcptracer"), "-o", "json", "-p", std::to_string(v4.server_pid)});
    ToolProcess v6_only({tool_path("tcptracer"), "-o", "json", "-6"});
    for (ToolProcess* p : {&all, &text, &server, &v6_only})
        REQUIRE(p->wait_attached());
    TcpSession::Times t = v4.run();
    TcpSession::Times t6 = v6.run();
    REQUIRE(wait_server_closed(all, v4.server_port));
    REQUIRE(wait_server_closed(all, v6.server_port));
    Finished r = all.stop();
    CHECK(r.exit_code == 0);
    INFO(r.out);

    // type, owner, local port, remote port, in order.
    struct Want {
        std::string type;
        pid_t pid;
        std::string comm;
        uint16_t sport, dport;
    };
    auto check_session = [&](const std::vector<json>& records, const TcpSession& s,
                             const TcpSession::Times& times, int ip) {
        std::vector<Want> want = {
            {"connect", s.client_pid, TcpSession::client_name, times.client_port, s.server_port},
            {"accept", s.server_pid, TcpSession::server_name, s.server_port, times.client_port},
            {"close", s.client_pid, TcpSession::client_name, times.client_port, s.server_port},
            {"close", s.server_pid, TcpSession::server_name, s.server_port, times.client_port}};
        REQUIRE(records.size() == want.size());
        for (size_t i = 0; i < want.size(); i++) {
            const json& e = records[i];
            INFO(e.dump());
            CHECK(e.at("type") == want[i].type);
            CHECK(e.at("pid") == want[i].pid);
            CHECK(e.at("tid") == want[i].pid);
            CHECK(e.at("uid") == getuid());
            CHECK(e.at("comm") == want[i].comm);
            CHECK(e.at("ip") == ip);
            CHECK(e.at("sport") == want[i].sport);
            CHECK(e.at("dport") == want[i].dport);
            CHECK(e.at("time").is_string());
            if (ip == 4) {
                bool client = want[i].pid == s.client_pid;
                CHECK(e.at("saddr") == (client ? "127.0.0.1" : "127.0.0.2"));
                CHECK(e.at("daddr") == (client ? "127.0.0.2" : "127.0.0.1"));
            } else {
                CHECK(e.at("saddr") == "::1");
                CHECK(e.at("daddr") == "::1");
            }
        }
    };
    check_session(session_records(r.out, v4.server_port), v4, t, 4);
    check_session(session_records(r.out, v6.server_port), v6, t6, 6);

    // Each instance's programs ran for the last event before the unfiltered
    // one showed it: stopped now, each has handed over all it would.
    Finished r6 = v6_only.stop();
    check_session(session_records(r6.out, v6.server_port), v6, t6, 6);
    CHECK(session_records(r6.out, v4.server_port).empty());
    for (const json& e : json_lines(r6.out))
        CHECK(e.at("ip") == 6);

    // -p SERVER: the accept and the server's close only.
    Finished rp = server.stop();
    std::vector<json> by_pid = json_lines(rp.out);
    REQUIRE(by_pid.size() == 2);
    CHECK(by_pid[0].at("type") == "accept");
    CHECK(by_pid[1].at("type") == "close");
    for (const json& e : by_pid) {
        CHECK(e.at("pid") == v4.server_pid);
        CHECK(e.at("sport") == v4.server_port);
    }

    // Text, -T, -p with both children: the classic columns, one letter a type.
    Finished rt = text.stop();
    std::vector<std::string> out = lines(rt.out);
    REQUIRE(out.size() == 5);
    CHECK(out[0] == "TIME     T PID     COMM             IP SADDR            DADDR            "
                    "SPORT  DPORT");
    std::string c = std::to_string(v4.client_pid), s = std::to_string(v4.server_pid);
    std::string cp = std::to_string(t.client_port), sp = std::to_string(v4.server_port);
    std::vector<std::vector<std::string>> want = {
        {"C", c, TcpSession::client_name, "4", "127.0.0.1", "127.0.0.2", cp, sp},
        {"A", s, TcpSession::server_name, "4", "127.0.0.2", "127.0.0.1", sp, cp},
        {"X", c, TcpSession::client_name, "4", "127.0.0.1", "127.0.0.2", cp, sp},
        {"X", s, TcpSession::server_name, "4", "127.0.0.2", "127.0.0.1", sp, cp}};
    for (size_t i = 0; i < want.size(); i++) {
        std::vector<std::string> f = fields(out[i + 1]);
        REQUIRE(f.size() == 9);
        CHECK(f[0].size() == 8);
        CHECK(std::vector<std::string>(f.begin() + 1, f.end()) == want[i]);
    }
}

TEST_CASE("tcptracer rejects -4 with -6 with exit 2", "[tcptracer]") {
    CHECK(run({tool_path("tcptracer"), "-4", "-6"}).exit_code == 2);
}

} // namespace test_tcptracer
