// solisten: every listen() on an IPv4 or IPv6 socket, with the process, the
// result, the backlog asked for, and the local address and port.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "solisten.skel.h"
#include "solisten/solisten.h"

#include <string>

namespace corescope::tools {

namespace {

// "TCP", "SCTP", ...; the number for the others.
std::string protocol_name(uint16_t protocol) {
    switch (protocol) {
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 132:
        return "SCTP";
    case 136:
        return "UDPLITE";
    case 262:
        return "MPTCP";
    default:
        return std::to_string(protocol);
    }
}

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), json_field("fd"), column("ret", "RET", 4),
                 column("backlog", "BACKLOG", 7), json_field("max_backlog"),
                 text_column("PROTO", 7), json_field("proto"), json_field("ip"),
                 column("addr", "ADDR", 16), column("port", "PORT", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<solisten_event>(data, size);
        if (!e) return;
        std::string proto = protocol_name(e->protocol);
        if (Record r = records.begin(task_of(*e)))
            r.number(e->fd)
                .number(e->ret)
                .number(e->backlog)
                .number(e->max_backlog)
                .lazy([&] { return proto + "v" + std::to_string(ip_version(e->family)); })
                .text(proto)
                .number(ip_version(e->family))
                .text(format_ip(e->family, e->addr))
                .number(e->port)
                .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("listen system calls", {{"listen"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_solisten(const CommonOptions& options, uint32_t, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int solisten(int argc, char** argv) {
    CommonOptions options;
    NetFilters net;
    CommandLine cli("solisten",
                    "Trace listen() on IPv4 and IPv6 sockets: the process, the result, the "
                    "backlog, the local address and port.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    add_port_option(cli, 'P', "port", "PORTS", "only these local ports (comma-separated)", "port",
                    net.local_ports);
    add_family_switches(cli, net);
    cli.set_examples("  solisten                   every listen()\n"
                     "  solisten -T -p 181         those of process 181, with times\n"
                     "  solisten -x                only the failed ones\n"
                     "  solisten -P 80,443 -o json ports 80 and 443, as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<solisten_bpf>({.name = "solisten",
                                         .options = options,
                                         .attach_steps = attach_steps,
                                         .net_filters = &net,
                                         .announcement = "Tracing listen()... Hit Ctrl-C to end."},
                                        Printer{});
}

} // namespace corescope::tools
