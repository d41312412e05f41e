// tcpstates: every TCP state change, with the socket, its owner, its
// endpoints and the time it spent in the state it leaves.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcpstates.skel.h"
#include "tcpstates/tcpstates.h"

#include <cstdio>

namespace corescope::tools {

namespace {

struct Settings {
    NetFilters net;
    bool wide = false;
};

struct Printer {
    const Settings& settings;

    RecordLayout layout() const {
        int address = settings.wide ? 39 : 15;
        return {task_all,
                {column("skaddr", "SKADDR", 16), pid_column(), comm_column(), json_field("ip"),
                 column("laddr", "LADDR", address), column("lport", "LPORT", 5),
                 column("raddr", "RADDR", address), column("rport", "RPORT", 5),
                 column("old_state", "OLDSTATE", 11), text_column("->", 2),
                 column("new_state", "NEWSTATE", 11), column("old_state_ms", "MS", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcpstates_event>(data, size);
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        char skaddr[20];
        snprintf(skaddr, sizeof skaddr, "%llx", static_cast<unsigned long long>(e->skaddr));
        r.text(skaddr)
            .number(ip_version(e->family))
            .text(format_ip(e->family, e->laddr))
            .number(e->lport)
            .text(format_ip(e->family, e->raddr))
            .number(e->rport)
            .text(tcp_state_name(e->oldstate))
            .text("->")
            .text(tcp_state_name(e->newstate));
        if (e->in_old_known)
            r.real(static_cast<double>(e->in_old_ns) / 1e6);
        else
            r.null();
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("TCP state changes", {{"set_state", "sock:inet_sock_set_state"}}),
            // The owner of an accepted connection, for its later changes.
            syscall_tiers("accept returns",
                          {{"accept4", false, true, true}, {"accept", false, true, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: --wide.
void decode_tcpstates(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Settings settings;
    settings.wide = (variant & 1) != 0;
    decode_events(Printer{settings}, options, out, events);
}

int tcpstates(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpstates",
                    "Trace TCP state changes, with the time spent in each state and the socket's "
                    "owner.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    add_port_option(cli, 'L', "localport", "PORTS", "only these local ports (comma-separated)",
                    "local port", settings.net.local_ports);
    add_port_option(cli, 'D', "remoteport", "PORTS", "only these remote ports (comma-separated)",
                    "remote port", settings.net.remote_ports);
    add_family_switches(cli, settings.net);
    cli.add_switch('w', "wide", "wide address columns (fit IPv6 addresses)", &settings.wide);
    cli.set_examples("  tcpstates                  trace all TCP state changes\n"
                     "  tcpstates -T -U            with time and UID columns\n"
                     "  tcpstates -L 80            only sockets on local port 80\n"
                     "  tcpstates -D 5432 -o json  sockets to remote port 5432, as JSON Lines\n"
                     "  tcpstates -p 181           only sockets process 181 owns\n"
                     "  tcpstates -6 -w            IPv6 only, wide columns\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<tcpstates_bpf>(
        {.name = "tcpstates",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &settings.net,
         .announcement = "Tracing TCP state changes... Hit Ctrl-C to end."},
        Printer{settings});
}

} // namespace corescope::tools
