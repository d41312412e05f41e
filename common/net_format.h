// What the TCP tools share in user space: addresses and TCP states as text,
// port lists on the command line, and the -4/-6 and port filters whose
// kernel half is bpf/sock.bpf.h (names must match it).
#pragma once

#include "cli.h"
#include "errors.h"

#include <bpf/libbpf.h>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corescope {

inline constexpr uint16_t family_inet = 2;   // AF_INET
inline constexpr uint16_t family_inet6 = 10; // AF_INET6

// 4 for AF_INET, 6 for AF_INET6, 0 otherwise.
int ip_version(uint16_t family);

// addr holds 16 bytes, an IPv4 address in the first 4 (network order):
// "127.0.0.1", "::1", "::ffff:10.0.0.1"; "?" for another family.
std::string format_ip(uint16_t family, const uint8_t* addr);
void append_ip(std::string& out, uint16_t family, const uint8_t* addr);
// "10.0.0.1:22" and "[::1]:22".
std::string format_endpoint(uint16_t family, const uint8_t* addr, uint16_t port);

// "ESTABLISHED", "SYN_SENT", ... as in include/net/tcp_states.h without the
// TCP_ prefix; "UNKNOWN" for anything else.
const char* tcp_state_name(int state);

// An IP header's protocol by name: "TCP", "UDP", "ICMP", "ICMPv6", "SCTP",
// "UDPLite"; "-" for 0, the number for others.
std::string ip_protocol_name(uint8_t protocol);
// Whether a packet of this IP protocol has ports (TCP, UDP, SCTP, UDPLite).
bool ip_protocol_has_ports(uint8_t protocol);
// An Ethernet frame's EtherType by name: "IPv4", "ARP", "IPv6"; "-" for 0,
// "0x88cc" for others.
std::string ethertype_name(uint16_t ethertype);

// A TCP header's flags byte as the classic tools show it, from the lowest
// bit: "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR" (those set); "" for none.
std::string tcp_flag_names(uint8_t flags);

// "80" or "80,443,8080": ports 1 to 65535. Throws UsageError naming the bad
// value ("invalid port 'x' in '80,x'").
std::vector<uint16_t> parse_port_list(std::string_view what, std::string_view text);

// The -4/-6 and port filters a TCP tool was asked for.
struct NetFilters {
    uint16_t family = 0; // family_inet, family_inet6, or 0 for both
    std::vector<uint16_t> local_ports;
    std::vector<uint16_t> remote_ports;
};

// Adds -4, --ipv4 and -6, --ipv6 (which cannot be combined).
void add_family_switches(CommandLine& cli, NetFilters& filters);

// Adds a ports option (-P PORTS, -L PORTS, ...): each use appends the
// comma-separated ports it is given to ports; a bad one is a UsageError
// naming it as what ("invalid local port 'x' in '80,x'").
void add_port_option(CommandLine& cli, char short_name, std::string long_name,
                     std::string value_name, std::string help, std::string_view what,
                     std::vector<uint16_t>& ports);

// Before load: the rodata switches of bpf/sock.bpf.h.
template <class Skeleton>
void configure_net_filters(Skeleton* skel, const NetFilters& filters) {
    constexpr size_t max_ports = 1024; // PORT_FILTER_MAX
    if (filters.local_ports.size() + filters.remote_ports.size() > max_ports)
        throw UsageError("too many ports: at most " + std::to_string(max_ports));
    skel->rodata->filter_family = filters.family;
    skel->rodata->filter_local_ports = !filters.local_ports.empty();
    skel->rodata->filter_remote_ports = !filters.remote_ports.empty();
}

// After load: the port sets.
template <class Skeleton>
void fill_net_filters(Skeleton* skel, const NetFilters& filters) {
    auto add = [&](uint32_t side, uint16_t port) {
        uint32_t key = (side << 16) | port; // PORT_FILTER_KEY
        uint8_t one = 1;
        int err = bpf_map__update_elem(skel->maps.port_filter, &key, sizeof key, &one, sizeof one,
                                       BPF_ANY);
        if (err) throw RuntimeError(errno_message("cannot set the port filter", err));
    };
    for (uint16_t port : filters.local_ports)
        add(0, port); // PORT_FILTER_LOCAL
    for (uint16_t port : filters.remote_ports)
        add(1, port); // PORT_FILTER_REMOTE
}

} // namespace corescope
