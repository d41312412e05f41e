// bindsnoop: trace bind() on IPv4 and IPv6 sockets: the process, the
// protocol, the address and port asked for, the socket's options and the
// result.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "bindsnoop.skel.h"
#include "bindsnoop/bindsnoop.h"

#include <string>
#include <string_view>
#include <vector>

namespace corescope::tools {

namespace {

// The options in the order of their letters in the OPTS column.
struct OptionName {
    uint8_t bit;
    char letter;
    const char* name;
};
constexpr OptionName option_names[] = {
    {BINDSNOOP_OPT_FREEBIND, 'F', "FREEBIND"},
    {BINDSNOOP_OPT_TRANSPARENT, 'T', "TRANSPARENT"},
    {BINDSNOOP_OPT_BIND_ADDRESS_NO_PORT, 'N', "BIND_ADDRESS_NO_PORT"},
    {BINDSNOOP_OPT_REUSEADDR, 'R', "REUSEADDR"},
    {BINDSNOOP_OPT_REUSEPORT, 'r', "REUSEPORT"},
};

// "F.NR." style: a letter for each option set, '.' for each not.
std::string option_letters(uint8_t opts) {
    std::string out;
    for (const OptionName& o : option_names)
        out += (opts & o.bit) ? o.letter : '.';
    return out;
}

std::string protocol_name(uint16_t protocol) {
    switch (protocol) {
    case 0:
        return "IP";
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
        return "UDPLITE";
    case 255:
        return "RAW";
    case 262:
        return "MPTCP";
    default:
        return std::to_string(protocol);
    }
}

std::string type_name(uint16_t type) {
    switch (type) {
    case 1:
        return "STREAM";
    case 2:
        return "DGRAM";
    case 3:
        return "RAW";
    case 4:
        return "RDM";
    case 5:
        return "SEQPACKET";
    default:
        return std::to_string(type);
    }
}

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("ret", "RET", 4, Align::right),
                 json_field("errno"), json_field("fd"), json_field("ip"),
                 column("protocol", "PROTO", 5), json_field("type"), json_field("options"),
                 text_column("OPTS", 5), column("bound_if", "IF", 3, Align::right),
                 json_field("port"), json_field("bound_port"), text_column("PORT", 5, Align::right),
                 column("addr", "ADDR", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<bindsnoop_event>(data, size);
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.number(e->ret)
            .number(errno_of_return(e->ret))
            .number(e->fd)
            .number(ip_version(e->family))
            .lazy([&] { return protocol_name(e->protocol); })
            .lazy([&] { return type_name(e->type); })
            .lazy([&] {
                std::string out = "[";
                for (const OptionName& o : option_names) {
                    if (!(e->opts & o.bit)) continue;
                    if (out.size() > 1) out += ',';
                    out += '"';
                    out += o.name;
                    out += '"';
                }
                return Formatted{out + "]"};
            })
            .lazy([&] { return option_letters(e->opts); })
            .number(e->bound_if)
            .number(e->port);
        if (e->ret == 0 && e->bound_port)
            r.number(e->bound_port);
        else
            r.null();
        // Text: the port the socket holds after a bind that worked (the
        // kernel's choice for port 0), else the one asked for.
        r.number(e->ret == 0 && e->bound_port ? e->bound_port : e->port);
        if (e->addr_read)
            r.lazy([&] { return format_ip(e->addr_family, e->addr); });
        else
            r.null();
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("bind system call", {{"bind"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_bindsnoop(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int bindsnoop(int argc, char** argv) {
    CommonOptions options;
    NetFilters net;
    CommandLine cli("bindsnoop",
                    "Trace bind() on IPv4 and IPv6 sockets: the address and port, the protocol, "
                    "the socket's options and the result.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    add_port_option(cli, 'P', "port", "PORTS",
                    "only binds to these ports (comma-separated; for port 0, the port the kernel "
                    "chose)",
                    "port", net.local_ports);
    add_family_switches(cli, net);
    cli.set_examples("  bindsnoop                  every bind() on an IPv4 or IPv6 socket\n"
                     "  bindsnoop -x               only binds that failed\n"
                     "  bindsnoop -P 80,443 -T     binds to ports 80 and 443, with times\n"
                     "  bindsnoop -p 181 -o json   process 181, as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<bindsnoop_bpf>({.name = "bindsnoop",
                                          .options = options,
                                          .attach_steps = attach_steps,
                                          .net_filters = &net,
                                          .announcement = "Tracing binds... Hit Ctrl-C to end."},
                                         Printer{});
}

} // namespace corescope::tools
