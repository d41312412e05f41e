#include "net_format.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstdio>

namespace corescope {

int ip_version(uint16_t family) {
    if (family == family_inet) return 4;
    if (family == family_inet6) return 6;
    return 0;
}

void append_ip(std::string& out, uint16_t family, const uint8_t* addr) {
    char text[INET6_ADDRSTRLEN];
    int af = family == family_inet ? AF_INET : family == family_inet6 ? AF_INET6 : -1;
    if (af < 0 || inet_ntop(af, addr, text, sizeof text) == nullptr) {
        out += '?';
        return;
    }
    out += text;
}

std::string format_ip(uint16_t family, const uint8_t* addr) {
    std::string out;
    append_ip(out, family, addr);
    return out;
}

std::string format_endpoint(uint16_t family, const uint8_t* addr, uint16_t port) {
    std::string out;
    if (family == family_inet6) out += '[';
    append_ip(out, family, addr);
    if (family == family_inet6) out += ']';
    out += ':';
    out += std::to_string(port);
    return out;
}

const char* tcp_state_name(int state) {
    static const char* const names[] = {
        "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
        "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV",
    };
    if (state <= 0 || state >= static_cast<int>(std::size(names))) return names[0];
    return names[state];
}

std::string tcp_flag_names(uint8_t flags) {
    static const char* const names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    std::string out;
    for (int bit = 0; bit < 8; bit++) {
        if (!(flags & (1u << bit))) continue;
        if (!out.empty()) out += '|';
        out += names[bit];
    }
    return out;
}

std::vector<uint16_t> parse_port_list(std::string_view what, std::string_view text) {
    std::vector<uint16_t> ports;
    std::string_view rest = text;
    for (;;) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || value == 0 ||
            value > 65535)
            throw UsageError("invalid " + std::string(what) + " '" + std::string(item) + "' in '" +
                             std::string(text) + "': ports are 1 to 65535, separated by commas");
        ports.push_back(static_cast<uint16_t>(value));
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return ports;
}

void add_family_switches(CommandLine& cli, NetFilters& filters) {
    auto set = [&filters](uint16_t family) {
        if (filters.family != 0 && filters.family != family)
            throw UsageError("-4 and -6 cannot be combined (without either, both are traced)");
        filters.family = family;
    };
    cli.add_option('4', "ipv4", "", "only IPv4 connections",
                   [set](std::string_view) { set(family_inet); });
    cli.add_option('6', "ipv6", "", "only IPv6 connections",
                   [set](std::string_view) { set(family_inet6); });
}

void add_port_option(CommandLine& cli, char short_name, std::string long_name,
                     std::string value_name, std::string help, std::string_view what,
                     std::vector<uint16_t>& ports) {
    cli.add_option(short_name, std::move(long_name), std::move(value_name), std::move(help),
                   [what = std::string(what), &ports](std::string_view v) {
                       std::vector<uint16_t> more = parse_port_list(what, v);
                       ports.insert(ports.end(), more.begin(), more.end());
                   });
}

std::string ip_protocol_name(uint8_t protocol) {
    switch (protocol) {
    case 0:
        return "-";
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "ICMPv6";
    case 132:
        return "SCTP";
    case 136:
        return "UDPLite";
    default:
        return std::to_string(protocol);
    }
}

bool ip_protocol_has_ports(uint8_t protocol) {
    return protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136;
}

std::string ethertype_name(uint16_t ethertype) {
    switch (ethertype) {
    case 0:
        return "-";
    case 0x0800:
        return "IPv4";
    case 0x0806:
        return "ARP";
    case 0x86dd:
        return "IPv6";
    default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%04x", ethertype);
        return hex;
    }
    }
}

} // namespace corescope
