// tcptop against the two sessions of tcp_sessions.h: every send and receive
// returns in a system call the tool sees, and nothing else moves bytes on
// those connections, so each process's bytes per connection are exact.
#include "harness.h"
#include "json_lines.h"
#include "tcp_sessions.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

namespace test_tcptop {

using namespace itest;
using nlohmann::json;

namespace {

using namespace tcp_sessions;

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("tcptop"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

// The one record a tool stopped within its first interval printed.
json only_record(ToolProcess& p) {
    Finished f = p.stop();
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    INFO(f.out << f.err);
    REQUIRE(records.size() == 1);
    return records[0];
}

// The entries of one process, by local port.
std::map<uint16_t, json> entries_of(const json& record, pid_t pid) {
    std::map<uint16_t, json> out;
    for (const json& e : record.at("entries"))
        if (e.at("pid") == pid) out[e.at("lport").get<uint16_t>()] = e;
    return out;
}

void check_entry(const json& e, const char* comm, int ip, const char* laddr, uint16_t lport,
                 const char* raddr, uint16_t rport, uint64_t rx, uint64_t tx) {
    INFO(e.dump());
    CHECK(e.at("comm") == comm);
    CHECK(e.at("ip") == ip);
    CHECK(e.at("laddr") == laddr);
    CHECK(e.at("lport") == lport);
    CHECK(e.at("raddr") == raddr);
    CHECK(e.at("rport") == rport);
    CHECK(e.at("rx_bytes") == rx);
    CHECK(e.at("tx_bytes") == tx);
}

} // namespace

TEST_CASE("tcptop counts each process's bytes per connection exactly, with its filters and "
          "on every tier",
          "[tcptop]") {
    REQUIRE_BPF();
    Sessions s;
    std::string client = std::to_string(s.client->pid());
    std::string server = std::to_string(s.server);
    auto all = start({"-o", "json", "-r", "0", "600"});
    auto server_v4 = start({"-o", "json", "-p", server, "-4", "-S", "600"});
    auto v6_top = start({"-o", "json", "-6", "-r", "1", "-s", "received", "600"});
    auto text = start({"-C", "-T", "-p", client, "600"});
    auto raw = start({"-o", "json", "-p", client, "600"}, "tp_btf");
    auto tracefs = start({"-o", "json", "-p", client, "600"}, "tp_btf,raw_tp");
    for (auto* t : {all.get(), server_v4.get(), v6_top.get(), text.get(), raw.get(), tracefs.get()})
        REQUIRE(t->wait_attached());
    s.run();
    pid_t client_pid = s.client->pid(), server_pid = s.server;
    auto check_client_v4 = [&](const json& e) {
        check_entry(e, client_name, 4, "127.0.0.1", s.v4_client_port, "127.0.0.2", s.v4_port,
                    v4_server_sends, v4_client_sends);
    };

    json r = only_record(*all);
    auto c = entries_of(r, client_pid), sv = entries_of(r, server_pid);
    REQUIRE(c.size() == 2);
    REQUIRE(sv.size() == 2);
    check_client_v4(c[s.v4_client_port]);
    check_entry(c[s.v6_client_port], client_name, 6, "::1", s.v6_client_port, "::1", s.v6_port,
                v6_server_sends, v6_client_sends);
    check_entry(sv[s.v4_port], server_name, 4, "127.0.0.2", s.v4_port, "127.0.0.1",
                s.v4_client_port, v4_client_sends, v4_server_sends);
    check_entry(sv[s.v6_port], server_name, 6, "::1", s.v6_port, "::1", s.v6_client_port,
                v6_client_sends, v6_server_sends);
    CHECK(r.at("connections").get<uint64_t>() >= 4);
    CHECK(r.at("rx_bytes").get<uint64_t>() >=
          v4_client_sends + v4_server_sends + v6_client_sends + v6_server_sends);
    CHECK(r.at("loadavg").is_string());

    // -p and -4: the server's IPv4 connection, nothing else; -S: no load
    // average.
    r = only_record(*server_v4);
    CHECK_FALSE(r.contains("loadavg"));
    REQUIRE(r.at("entries").size() == 1);
    CHECK(r.at("entries")[0].at("pid") == server_pid);
    check_entry(r.at("entries")[0], server_name, 4, "127.0.0.2", s.v4_port, "127.0.0.1",
                s.v4_client_port, v4_client_sends, v4_server_sends);

    // -6 -r 1 -s received: of the IPv6 connections, the one that received
    // the most (the server's); the table still counts both.
    r = only_record(*v6_top);
    REQUIRE(r.at("entries").size() == 1);
    CHECK(r.at("entries")[0].at("pid") == server_pid);
    CHECK(r.at("entries")[0].at("ip") == 6);
    CHECK(r.at("entries")[0].at("rx_bytes") == v6_client_sends);
    CHECK(r.at("connections").get<uint64_t>() >= 2);
    for (const json& e : r.at("entries"))
        CHECK(e.at("ip") == 6);

    for (auto* tier : {raw.get(), tracefs.get()}) {
        r = only_record(*tier);
        c = entries_of(r, client_pid);
        REQUIRE(c.size() == 2);
        CHECK(r.at("entries").size() == 2);
        check_client_v4(c[s.v4_client_port]);
    }

    // Text: the load average line, -T's time, the classic header, and the
    // client's connections in kilobytes (bytes / 1024, rounded down), most
    // first.
    Finished f = text->stop();
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    INFO(f.out);
    REQUIRE(out.size() == 5);
    CHECK(std::regex_match(out[0], std::regex("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] loadavg: "
                                              "[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+/[0-9]+ [0-9]+")));
    CHECK(std::regex_match(out[1], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    out.erase(out.begin() + 1);
    CHECK(std::regex_match(out[1], std::regex("PID +COMM +LADDR +RADDR +RX_KB +TX_KB")));
    CHECK(std::regex_match(
        out[2], std::regex(client + " +" + client_name +
                           " +127\\.0\\.0\\.1:" + std::to_string(s.v4_client_port) +
                           " +127\\.0\\.0\\.2:" + std::to_string(s.v4_port) + " +146 +97")));
    CHECK(std::regex_match(out[3], std::regex(client + " +" + client_name + " +\\[::1\\]:" +
                                              std::to_string(s.v6_client_port) + " +\\[::1\\]:" +
                                              std::to_string(s.v6_port) + " +2 +6")));
    CHECK(f.out.find('\033') == std::string::npos); // a pipe is not cleared
}

TEST_CASE("tcptop prints a table per interval and stops after count", "[tcptop]") {
    REQUIRE_BPF();
    double started = now_s();
    Finished f = run({tool_path("tcptop"), "-o", "json", "1", "2"}, 30);
    double wall = now_s() - started;
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records)
        CHECK(r.at("entries").size() <= 20);
}

} // namespace test_tcptop
