// tcpsubnet against the two sessions of tcp_sessions.h: the client sends
// 100,000 bytes to 127.0.0.2 and 7,000 to ::1, the server 150,000 to
// 127.0.0.1 and 3,000 to ::1, each in system calls the tool sees; -p picks
// one side, so each subnet's bytes are exact.
#include "harness.h"
#include "json_lines.h"
#include "tcp_sessions.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

namespace test_tcpsubnet {

using namespace itest;
using namespace itest::tcp_sessions;
using nlohmann::json;

namespace {

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("tcpsubnet"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

// The one record of a tool stopped within its first interval, and its
// entries as subnet -> bytes.
std::pair<json, std::map<std::string, uint64_t>> only_record(ToolProcess& p) {
    Finished f = p.stop();
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    INFO(f.out << f.err);
    REQUIRE(records.size() == 1);
    std::map<std::string, uint64_t> bytes;
    for (const json& e : records[0].at("entries"))
        bytes[e.at("subnet")] = e.at("bytes");
    return {records[0], bytes};
}

} // namespace

TEST_CASE("tcpsubnet sums the bytes sent to each subnet exactly, first match first, with its "
          "filters and on every tier",
          "[tcpsubnet]") {
    REQUIRE_BPF();
    Sessions s;
    std::string client = std::to_string(s.client->pid());
    std::string server = std::to_string(s.server);
    // The classic list: 127.0.0.2 is in 0.0.0.0/0 only, ::1 in none.
    auto classic = start({"-o", "json", "-p", client, "600"});
    auto listed =
        start({"-o", "json", "-p", server, "--subnets", "127.0.0.2/32,127.0.0.0/8,::1", "600"});
    auto v4 = start(
        {"-o", "json", "-4", "-p", client, "-p", server, "--subnets", "127.0.0.0/8,::/0", "600"});
    auto text = start({"-f", "K", "-p", client, "600"});
    auto raw = start({"-o", "json", "-p", client, "600"}, "tp_btf");
    auto tracefs = start({"-o", "json", "-p", client, "600"}, "tp_btf,raw_tp");
    for (auto* t : {classic.get(), listed.get(), v4.get(), text.get(), raw.get(), tracefs.get()})
        REQUIRE(t->wait_attached());
    s.run();

    for (auto* tool : {classic.get(), raw.get(), tracefs.get()}) {
        auto [r, bytes] = only_record(*tool);
        CHECK(bytes == std::map<std::string, uint64_t>{{"0.0.0.0/0", v4_client_sends}});
        CHECK(r.at("bytes") == v4_client_sends);
        CHECK(r.at("unmatched_bytes") == v6_client_sends);
    }

    // The server sends to 127.0.0.1: in 127.0.0.0/8, not in 127.0.0.2/32.
    auto [r, bytes] = only_record(*listed);
    CHECK(bytes == std::map<std::string, uint64_t>{{"127.0.0.0/8", v4_server_sends},
                                                   {"::1/128", v6_server_sends}});
    CHECK(r.at("unmatched_bytes") == 0);

    // -4: both sides' IPv4 bytes; the IPv6 ones are not even unmatched.
    std::tie(r, bytes) = only_record(*v4);
    CHECK(bytes ==
          std::map<std::string, uint64_t>{{"127.0.0.0/8", v4_client_sends + v4_server_sends}});
    CHECK(r.at("unmatched_bytes") == 0);

    // Text: the time line, then the subnet and its KiB (100000 / 1024).
    Finished f = text->stop();
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    INFO(f.out);
    REQUIRE(out.size() == 2);
    CHECK(std::regex_match(out[0], std::regex("\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\]")));
    CHECK(std::regex_match(out[1], std::regex("0\\.0\\.0\\.0/0 +97")));
}

TEST_CASE("tcpsubnet refuses a bad subnet naming it, and prints per interval", "[tcpsubnet]") {
    Finished bad = run({tool_path("tcpsubnet"), "--subnets", "10.0.0.0/8,10.0.0.0/33"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("10.0.0.0/33") != std::string::npos);
    bad = run({tool_path("tcpsubnet"), "--subnets", "10.0.0.0/8,nonsense"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("nonsense") != std::string::npos);
    bad = run({tool_path("tcpsubnet"), "-f", "X"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("'X'") != std::string::npos);

    REQUIRE_BPF();
    double started = now_s();
    Finished f = run({tool_path("tcpsubnet"), "-o", "json", "1", "2"}, 30);
    double wall = now_s() - started;
    CHECK(f.exit_code == 0);
    std::vector<json> records = json_lines(f.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
}

} // namespace test_tcpsubnet
