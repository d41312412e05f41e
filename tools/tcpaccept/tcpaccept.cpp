// tcpaccept: trace TCP connections accepted by processes (accept() and
// accept4()), IPv4 and IPv6, with the accepting process.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcpaccept.skel.h"
#include "tcpaccept/tcpaccept.h"

namespace corescope::tools {

namespace {

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), json_field("fd"), column("ip", "IP", 2),
                 column("raddr", "RADDR", 16), column("rport", "RPORT", 5),
                 column("laddr", "LADDR", 16), column("lport", "LPORT", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcpaccept_event>(data, size);
        if (!e) return;
        if (Record r = records.begin(task_of(*e)))
            r.number(e->fd)
                .number(ip_version(e->family))
                .text(format_ip(e->family, e->raddr))
                .number(e->rport)
                .text(format_ip(e->family, e->laddr))
                .number(e->lport)
                .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("accept system calls",
                          {{"accept4", false, true, true}, {"accept", false, true, true}}, true)};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_tcpaccept(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int tcpaccept(int argc, char** argv) {
    CommonOptions options;
    NetFilters net;
    CommandLine cli(
        "tcpaccept",
        "Trace TCP connections accepted by processes (accept(), accept4()), IPv4 and IPv6.",
        {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::print_uid,
         Flag::duration});
    add_port_option(cli, 'P', "port", "PORTS", "only these local ports (comma-separated)", "port",
                    net.local_ports);
    add_family_switches(cli, net);
    cli.set_examples("  tcpaccept                  trace all accepted TCP connections\n"
                     "  tcpaccept -T -U            with time and UID columns\n"
                     "  tcpaccept -p 181           only process 181\n"
                     "  tcpaccept -P 80,443        only connections to local ports 80 and 443\n"
                     "  tcpaccept -n nginx -o json commands containing 'nginx', as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<tcpaccept_bpf>(
        {.name = "tcpaccept",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &net,
         .announcement = "Tracing TCP accepts... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
