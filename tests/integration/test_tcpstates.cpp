// tcpstates against TCP sessions this test runs itself (tcp_session.h): a
// named server child listens, accepts and holds its end in CLOSE_WAIT for a
// known time; a named client child connects and holds the connection for a
// known time. Every state change of the three sockets is asserted, with its
// owner (known or not), its endpoints and the time spent in the old state;
// instances with -L, -D, -p and -6 run beside an unfiltered one.
#include "harness.h"
#include "json_lines.h"
#include "tcp_session.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace test_tcpstates {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int hold_ms = 300;
constexpr int close_wait_ms = 200;

// The records about a session: those with the server port at either end.
std::vector<json> session_records(const std::string& out, uint16_t server_port) {
    std::vector<json> found;
    for (const json& r : json_lines(out))
        if (r.value("type", "") != "lost" &&
            (r.at("lport") == server_port || r.at("rport") == server_port))
            found.push_back(r);
    return found;
}

std::string transition(const json& r) {
    return r.at("old_state").get<std::string>() + "->" + r.at("new_state").get<std::string>();
}

// The transitions of one socket, in order, as "OLD->NEW".
std::vector<std::string> transitions_of(const std::vector<json>& records,
                                        const std::string& skaddr) {
    std::vector<std::string> out;
    for (const json& r : records)
        if (r.at("skaddr") == skaddr) out.push_back(transition(r));
    return out;
}

const json* find(const std::vector<json>& records, const std::string& skaddr,
                 const std::string& what) {
    for (const json& r : records)
        if (r.at("skaddr") == skaddr && transition(r) == what) return &r;
    return nullptr;
}

// The last change the session makes at the server's end: the listener
// closes after the connection it accepted.
bool session_done(const std::string& out, uint16_t server_port) {
    std::string text = out.substr(0, out.rfind('\n') + 1);
    for (const json& r : json_lines(text))
        if (r.value("type", "") != "lost" && r.at("lport") == server_port && r.at("rport") == 0 &&
            r.at("new_state") == "CLOSE")
            return true;
    return false;
}

bool wait_session_done(ToolProcess& p, uint16_t server_port) {
    for (double deadline = now_s() + 15; now_s() < deadline; usleep(10000))
        if (session_done(p.output_so_far(), server_port)) return true;
    return false;
}

} // namespace

TEST_CASE("tcpstates shows every state change of a session with owners, endpoints and times, "
          "and -L, -D, -p and -6 keep their sockets only",
          "[tcpstates]") {
    REQUIRE_BPF();
    TcpSession v4(AF_INET, hold_ms, close_wait_ms);
    TcpSession v6(AF_INET6, hold_ms, close_wait_ms);
    std::string port = std::to_string(v4.server_port);
    ToolProcess all({tool_path("tcpstates"), "-o", "json"});
    ToolProcess local({tool_path("tcpstates"), "-T", "-w", "-L", port});
    ToolProcess remote({tool_path("tcpstates"), "-o", "json", "-D", port});
    ToolProcess server({tool_path("tcpstates"), "-o", "json", "-p", std::to_string(v4.server_pid)});
    ToolProcess v6_only({tool_path("tcpstates"), "-o", "json", "-6"});
    for (ToolProcess* p : {&all, &local, &remote, &server, &v6_only})
        REQUIRE(p->wait_attached());
    TcpSession::Times t = v4.run();
    TcpSession::Times t6 = v6.run();
    REQUIRE(wait_session_done(all, v4.server_port));
    REQUIRE(wait_session_done(all, v6.server_port));
    Finished r = all.stop();
    CHECK(r.exit_code == 0);

    std::vector<json> records = session_records(r.out, v4.server_port);
    // The three sockets, by their first change.
    std::string listener, client, accepted;
    for (const json& e : records) {
        if (transition(e) == "CLOSE->LISTEN") listener = e.at("skaddr");
        if (transition(e) == "CLOSE->SYN_SENT") client = e.at("skaddr");
        if (transition(e) == "LISTEN->SYN_RECV" && e.at("rport") == t.client_port)
            accepted = e.at("skaddr");
    }
    INFO(r.out);
    REQUIRE(!listener.empty());
    REQUIRE(!client.empty());
    REQUIRE(!accepted.empty());
    CHECK(listener.size() == 16);
    CHECK(transitions_of(records, listener) ==
          std::vector<std::string>{"CLOSE->LISTEN", "LISTEN->CLOSE"});
    CHECK(transitions_of(records, client) ==
          std::vector<std::string>{"CLOSE->SYN_SENT", "SYN_SENT->ESTABLISHED",
                                   "ESTABLISHED->FIN_WAIT1", "FIN_WAIT1->FIN_WAIT2",
                                   "FIN_WAIT2->CLOSE"});
    CHECK(transitions_of(records, accepted) ==
          std::vector<std::string>{"LISTEN->SYN_RECV", "SYN_RECV->ESTABLISHED",
                                   "ESTABLISHED->CLOSE_WAIT", "CLOSE_WAIT->LAST_ACK",
                                   "LAST_ACK->CLOSE"});
    CHECK(records.size() == 12);

    for (const json& e : records) {
        INFO(e.dump());
        CHECK(e.at("ip") == 4);
        CHECK(e.at("time").is_string());
        std::string s = e.at("skaddr");
        if (s == listener) {
            CHECK(e.at("laddr") == "127.0.0.2");
            CHECK(e.at("raddr") == "0.0.0.0");
            CHECK(e.at("rport") == 0);
        } else if (s == client) {
            CHECK(e.at("laddr") == "127.0.0.1");
            CHECK(e.at("raddr") == "127.0.0.2");
            // The kernel picks the source port after the move to SYN_SENT.
            CHECK(e.at("lport") == (transition(e) == "CLOSE->SYN_SENT" ? 0 : t.client_port));
        } else {
            CHECK(e.at("laddr") == "127.0.0.2");
            CHECK(e.at("raddr") == "127.0.0.1");
            CHECK(e.at("rport") == t.client_port);
        }
        // The owner: the client's socket is the client's from connect(); the
        // listener the server's from listen(); the accepted one nobody's
        // until accept() returns (its handshake ran in softirq context), then
        // the server's, also at the changes softirq makes (CLOSE_WAIT).
        bool unknown = s == accepted && (transition(e) == "LISTEN->SYN_RECV" ||
                                         transition(e) == "SYN_RECV->ESTABLISHED");
        if (unknown) {
            CHECK(e.at("pid").is_null());
            CHECK(e.at("tid").is_null());
            CHECK(e.at("uid").is_null());
            CHECK(e.at("comm").is_null());
        } else {
            pid_t owner = s == client ? v4.client_pid : v4.server_pid;
            CHECK(e.at("pid") == owner);
            CHECK(e.at("tid") == owner);
            CHECK(e.at("uid") == getuid());
            CHECK(e.at("comm") ==
                  (s == client ? TcpSession::client_name : TcpSession::server_name));
        }
    }
    // A socket's first change has no time in the old state.
    CHECK(find(records, listener, "CLOSE->LISTEN")->at("old_state_ms").is_null());
    CHECK(find(records, client, "CLOSE->SYN_SENT")->at("old_state_ms").is_null());
    CHECK(find(records, accepted, "LISTEN->SYN_RECV")->at("old_state_ms").is_null());
    // Times in the old state, within what the children measured.
    double handshake = find(records, client, "SYN_SENT->ESTABLISHED")->at("old_state_ms");
    CHECK(handshake >= 0);
    CHECK(handshake <= t.connect_ms);
    double established = find(records, client, "ESTABLISHED->FIN_WAIT1")->at("old_state_ms");
    CHECK(established >= hold_ms);
    CHECK(established <= t.client_open_ms);
    double close_wait = find(records, accepted, "CLOSE_WAIT->LAST_ACK")->at("old_state_ms");
    CHECK(close_wait >= close_wait_ms);
    CHECK(close_wait <= t.server_open_ms);
    double listening = find(records, listener, "LISTEN->CLOSE")->at("old_state_ms");
    CHECK(listening >= hold_ms + close_wait_ms);

    // The IPv6 session, in the unfiltered instance and in -6's.
    std::vector<json> records6 = session_records(r.out, v6.server_port);
    CHECK(records6.size() == 12);
    for (const json& e : records6) {
        CHECK(e.at("ip") == 6);
        CHECK(e.at("laddr").get<std::string>().find(':') != std::string::npos);
    }
    // Every other instance saw the last change before this one stopped
    // (the same tracepoint hit ran all of their programs): stopped now, each
    // has handed over all it was going to.
    Finished r6 = v6_only.stop();
    CHECK(session_records(r6.out, v6.server_port).size() == 12);
    CHECK(session_records(r6.out, v4.server_port).empty());
    for (const json& e : json_lines(r6.out))
        CHECK(e.at("ip") == 6);

    // -D PORT: the client's socket only (its remote port).
    Finished rd = remote.stop();
    std::vector<json> by_remote = json_lines(rd.out);
    CHECK(by_remote.size() == 5);
    for (const json& e : by_remote) {
        CHECK(e.at("skaddr") == client);
        CHECK(e.at("rport") == v4.server_port);
    }

    // -p SERVER: the listener and the accepted socket once accept() returned;
    // not the client's, nor the changes whose owner was not known.
    Finished rp = server.stop();
    std::vector<json> by_pid = json_lines(rp.out);
    CHECK(by_pid.size() == 5);
    for (const json& e : by_pid) {
        CHECK(e.at("pid") == v4.server_pid);
        CHECK(e.at("skaddr") != client);
    }

    // Text, -T -w -L PORT: the server's sockets only (the listener and the
    // accepted one, whose local port it is), owners unknown shown as "-";
    // -w's address columns fit an IPv6 address (39 characters).
    Finished rl = local.stop();
    std::vector<std::string> text = lines(rl.out);
    REQUIRE(text.size() == 8);
    CHECK(text[0] == "TIME     SKADDR           PID     COMM             LADDR" +
                         std::string(35, ' ') + "LPORT RADDR" + std::string(35, ' ') +
                         "RPORT OLDSTATE    -> NEWSTATE    MS");
    int unknown = 0;
    for (size_t i = 1; i < text.size(); i++) {
        std::vector<std::string> f = fields(text[i]);
        INFO(text[i]);
        REQUIRE(f.size() == 12);
        CHECK(f[0].size() == 8);
        CHECK((f[1] == listener || f[1] == accepted));
        CHECK(f[5] == port);
        CHECK(f[10] != "");
        if (f[2] == "-") {
            unknown++;
            CHECK(f[3] == "-");
        } else {
            CHECK(f[2] == std::to_string(v4.server_pid));
            CHECK(f[3] == TcpSession::server_name);
        }
        CHECK(f[9] == "->");
    }
    CHECK(unknown == 2);
    std::vector<std::string> last = fields(text.back());
    CHECK(last[1] == listener);
    CHECK(last[8] == "LISTEN");
    CHECK(last[10] == "CLOSE");
    CHECK(std::stod(last[11]) >= hold_ms + close_wait_ms);
    (void)t6;
}

TEST_CASE("tcpstates rejects bad port lists and -4 with -6 with exit 2", "[tcpstates]") {
    for (const char* flag : {"-L", "-D"}) {
        Finished r = run({tool_path("tcpstates"), flag, "22,abc"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("'abc'") != std::string::npos);
    }
    CHECK(run({tool_path("tcpstates"), "-4", "-6"}).exit_code == 2);
}

} // namespace test_tcpstates
