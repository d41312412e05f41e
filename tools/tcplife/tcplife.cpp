// tcplife: one line per TCP session when it closes: who, between which
// endpoints, bytes each way, and how long it lived.
#include "clock.h"
#include "columns.h"
#include "decoder.h"
#include "filters.h"
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
    const CommonOptions& options;
    const Settings& settings;
    Output& out;
    EventClock clock;

    int address_width() const { return settings.wide ? 39 : 15; }

    void header() {
        if (options.format == OutputFormat::json) return;
        std::string& b = out.buffer();
        append_time_uid_headers(b, options);
        b += "PID     COMM             ";
        append_padded(b, "LADDR", address_width());
        b += " LPORT ";
        append_padded(b, "RADDR", address_width());
        b += " RPORT  TX_KB  RX_KB MS\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < sizeof(tcplife_event)) return;
        const auto* e = static_cast<const tcplife_event*>(data);
        std::string_view comm = fixed_string(e->comm);
        if (!comm_matches(comm, options.name)) return;
        std::string laddr = format_ip(e->family, e->laddr);
        std::string raddr = format_ip(e->family, e->raddr);
        double ms = static_cast<double>(e->duration_ns) / 1e6;
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e->ts_ns);
            JsonObject(b)
                .string("time", when)
                .unsigned_number("pid", e->pid)
                .unsigned_number("uid", e->uid)
                .string("comm", comm)
                .number("ip", ip_version(e->family))
                .string("laddr", laddr)
                .unsigned_number("lport", e->lport)
                .string("raddr", raddr)
                .unsigned_number("rport", e->rport)
                .unsigned_number("tx_bytes", e->tx_bytes)
                .unsigned_number("rx_bytes", e->rx_bytes)
                .real("duration_ms", ms)
                .end_line();
        } else {
            append_time_uid_columns(b, options, clock, e->ts_ns, e->uid);
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            append_escaped_padded(b, comm, 16);
            b += ' ';
            append_padded(b, laddr, address_width());
            b += ' ';
            append_padded(b, std::to_string(e->lport), 5);
            b += ' ';
            append_padded(b, raddr, address_width());
            b += ' ';
            append_padded(b, std::to_string(e->rport), 5);
            append_unsigned(b, e->tx_bytes / 1024, 7);
            append_unsigned(b, e->rx_bytes / 1024, 7);
            char duration[32];
            std::snprintf(duration, sizeof duration, " %.2f\n", ms);
            b += duration;
        }
        out.end_record();
    }
};

std::vector<AttachStep> attach_steps() {
    return {{"TCP state changes",
             {{{{"btf_set_state", AttachKind::tp_btf, "inet_sock_set_state"}}},
              {{{"raw_set_state", AttachKind::raw_tp, "inet_sock_set_state"}}},
              {{{"tp_set_state", AttachKind::tracepoint, "sock:inet_sock_set_state"}}}}}};
}

} // namespace

// For tests/fuzz (common/decoder.h): one event through the printer; variant bit 0: --wide.
void decode_tcplife(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                    const void* data, size_t size) {
    Settings settings;
    settings.wide = (variant & 1) != 0;
    Printer printer{options, settings, out, {}};
    printer.event(data, size);
}

int tcplife(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli(
        "tcplife",
        "Trace TCP sessions: one line per session when it closes, with bytes and lifetime.",
        {Flag::pid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::print_uid,
         Flag::duration});
    cli.add_option('L', "localport", "PORTS", "only these local ports (comma-separated)",
                   [&](std::string_view v) {
                       auto ports = parse_port_list("local port", v);
                       settings.net.local_ports.insert(settings.net.local_ports.end(),
                                                       ports.begin(), ports.end());
                   });
    cli.add_option('D', "remoteport", "PORTS", "only these remote ports (comma-separated)",
                   [&](std::string_view v) {
                       auto ports = parse_port_list("remote port", v);
                       settings.net.remote_ports.insert(settings.net.remote_ports.end(),
                                                        ports.begin(), ports.end());
                   });
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
        [&](Output& out) {
            return Printer{options, settings, out, {}};
        });
}

} // namespace corescope::tools
