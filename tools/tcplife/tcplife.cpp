// tcplife: one line per TCP session when it closes: who, between which
// endpoints, bytes each way, and how long it lived.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcplife.skel.h"
#include "tcplife/tcplife.h"

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
        return {task_time | task_pid | task_uid | task_comm,
                {pid_column(), comm_column(), json_field("ip"), column("laddr", "LADDR", address),
                 column("lport", "LPORT", 5), column("raddr", "RADDR", address),
                 column("rport", "RPORT", 5), json_field("tx_bytes"), json_field("rx_bytes"),
                 text_column("TX_KB", 6, Align::right), text_column("RX_KB", 6, Align::right),
                 with_text_decimals(2, column("duration_ms", "MS", 0))}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcplife_event>(data, size);
        if (!e) return;
        if (Record r = records.begin(task_of(*e)))
            r.number(ip_version(e->family))
                .text(format_ip(e->family, e->laddr))
                .number(e->lport)
                .text(format_ip(e->family, e->raddr))
                .number(e->rport)
                .number(e->tx_bytes)
                .number(e->rx_bytes)
                .number(e->tx_bytes / 1024)
                .number(e->rx_bytes / 1024)
                .real(static_cast<double>(e->duration_ns) / 1e6)
                .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("TCP state changes", {{"set_state", "sock:inet_sock_set_state"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: --wide.
void decode_tcplife(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.wide = (variant & 1) != 0;
    decode_events(Printer{settings}, options, out, events);
}

int tcplife(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli(
        "tcplife",
        "Trace TCP sessions: one line per session when it closes, with bytes and lifetime.",
        {Flag::pid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::print_uid,
         Flag::duration});
    add_port_option(cli, 'L', "localport", "PORTS", "only these local ports (comma-separated)",
                    "local port", settings.net.local_ports);
    add_port_option(cli, 'D', "remoteport", "PORTS", "only these remote ports (comma-separated)",
                    "remote port", settings.net.remote_ports);
    add_family_switches(cli, settings.net);
    cli.add_switch('w', "wide", "wide address columns (fit IPv6 addresses)", &settings.wide);
    cli.set_examples("  tcplife                    trace all TCP sessions\n"
                     "  tcplife -T -U              with time and UID columns\n"
                     "  tcplife -p 181             only sessions of process 181\n"
                     "  tcplife -L 80,443          only sessions on local ports 80 and 443\n"
                     "  tcplife -D 5432 -o json    sessions to remote port 5432, as JSON Lines\n"
                     "  tcplife -6 -w              IPv6 only, wide columns\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<tcplife_bpf>(
        {.name = "tcplife",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &settings.net,
         .announcement = "Tracing TCP sessions... Hit Ctrl-C to end."},
        Printer{settings});
}

} // namespace corescope::tools
