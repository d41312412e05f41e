// Addresses, TCP states and port lists as the TCP tools print and parse
// them (common/net_format.h).
#include "net_format.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace test_net_format {

using namespace corescope;

namespace {

struct Address {
    uint8_t bytes[16] = {};
};

Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    Address addr;
    addr.bytes[0] = a;
    addr.bytes[1] = b;
    addr.bytes[2] = c;
    addr.bytes[3] = d;
    return addr;
}

} // namespace

TEST_CASE("net_format: IPv4 and IPv6 addresses and endpoints", "[net_format]") {
    Address lo = v4(127, 0, 0, 1);
    CHECK(format_ip(family_inet, lo.bytes) == "127.0.0.1");
    CHECK(format_endpoint(family_inet, lo.bytes, 22) == "127.0.0.1:22");
    Address six;
    six.bytes[15] = 1;
    CHECK(format_ip(family_inet6, six.bytes) == "::1");
    CHECK(format_endpoint(family_inet6, six.bytes, 443) == "[::1]:443");
    Address mapped;
    mapped.bytes[10] = mapped.bytes[11] = 0xff;
    mapped.bytes[12] = 10;
    mapped.bytes[15] = 1;
    CHECK(format_ip(family_inet6, mapped.bytes) == "::ffff:10.0.0.1");
    CHECK(format_ip(1 /* AF_UNIX */, lo.bytes) == "?");
    std::string appended = "from ";
    append_ip(appended, family_inet, lo.bytes);
    CHECK(appended == "from 127.0.0.1");
    CHECK(ip_version(family_inet) == 4);
    CHECK(ip_version(family_inet6) == 6);
    CHECK(ip_version(0) == 0);
}

TEST_CASE("net_format: TCP state names", "[net_format]") {
    CHECK(std::string(tcp_state_name(1)) == "ESTABLISHED");
    CHECK(std::string(tcp_state_name(2)) == "SYN_SENT");
    CHECK(std::string(tcp_state_name(7)) == "CLOSE");
    CHECK(std::string(tcp_state_name(10)) == "LISTEN");
    CHECK(std::string(tcp_state_name(0)) == "UNKNOWN");
    CHECK(std::string(tcp_state_name(99)) == "UNKNOWN");
    CHECK(std::string(tcp_state_name(-1)) == "UNKNOWN");
}

TEST_CASE("net_format: port lists parse, and a bad port is named", "[net_format]") {
    CHECK(parse_port_list("port", "80") == std::vector<uint16_t>{80});
    CHECK(parse_port_list("port", "80,443,8080") == std::vector<uint16_t>{80, 443, 8080});
    CHECK(parse_port_list("port", "1,65535") == std::vector<uint16_t>{1, 65535});
    for (const char* bad : {"0", "65536", "x", "80,", ",80", "-1", "80,,443", ""}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_port_list("port", bad), UsageError);
    }
    try {
        parse_port_list("port", "80,x");
        FAIL("no error");
    } catch (const UsageError& e) {
        CHECK(std::string(e.what()).find("'x'") != std::string::npos);
        CHECK(std::string(e.what()).find("'80,x'") != std::string::npos);
    }
}

TEST_CASE("net_format: -4 and -6 pick one family and cannot be combined", "[net_format]") {
    auto parse = [](std::vector<std::string> args, NetFilters& filters) {
        CommandLine cli("tcpconnect", "test", {});
        add_family_switches(cli, filters);
        std::vector<char*> argv = {const_cast<char*>("tcpconnect")};
        for (std::string& a : args)
            argv.push_back(a.data());
        CommonOptions options;
        return cli.parse(static_cast<int>(argv.size()), argv.data(), options);
    };
    NetFilters four;
    parse({"-4"}, four);
    CHECK(four.family == family_inet);
    NetFilters six;
    parse({"--ipv6"}, six);
    CHECK(six.family == family_inet6);
    NetFilters both;
    CHECK_THROWS_AS(parse({"-4", "-6"}, both), UsageError);
}

TEST_CASE("net_format: TCP flags by name, lowest bit first", "[net_format]") {
    CHECK(tcp_flag_names(0x02) == "SYN");
    CHECK(tcp_flag_names(0x12) == "SYN|ACK");
    CHECK(tcp_flag_names(0x11) == "FIN|ACK");
    CHECK(tcp_flag_names(0x04) == "RST");
    CHECK(tcp_flag_names(0xff) == "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");
    CHECK(tcp_flag_names(0).empty());
}

TEST_CASE("net_format: IP protocols and EtherTypes by name", "[net_format]") {
    CHECK(ip_protocol_name(6) == "TCP");
    CHECK(ip_protocol_name(17) == "UDP");
    CHECK(ip_protocol_name(58) == "ICMPv6");
    CHECK(ip_protocol_name(0) == "-");
    CHECK(ip_protocol_name(47) == "47"); // GRE: by number
    CHECK(ip_protocol_has_ports(6));
    CHECK(ip_protocol_has_ports(136));
    CHECK(!ip_protocol_has_ports(1));
    CHECK(ethertype_name(0x0800) == "IPv4");
    CHECK(ethertype_name(0x86dd) == "IPv6");
    CHECK(ethertype_name(0x0806) == "ARP");
    CHECK(ethertype_name(0) == "-");
    CHECK(ethertype_name(0x88cc) == "0x88cc"); // LLDP: in hex
}

} // namespace test_net_format
