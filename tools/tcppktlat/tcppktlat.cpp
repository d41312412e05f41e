// tcppktlat: how long received TCP data waited in the socket before the
// application read it, one line per read that copied data which waited at
// least the threshold.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcppktlat.skel.h"
#include "tcppktlat/tcppktlat.h"

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
        return {task_time | task_pid | task_tid | task_uid | task_comm,
                {pid_column(), tid_column(), comm_column(), json_field("ip"),
                 column("laddr", "LADDR", address), column("lport", "LPORT", 5),
                 column("raddr", "RADDR", address), column("rport", "RPORT", 5),
                 with_text_decimals(2, column("wait_ms", "MS", 0))}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcppktlat_event>(data, size);
        if (!e) return;
        if (Record r = records.begin(task_of(*e)))
            r.number(ip_version(e->family))
                .text(format_ip(e->family, e->laddr))
                .number(e->lport)
                .text(format_ip(e->family, e->raddr))
                .number(e->rport)
                .real(static_cast<double>(e->wait_ns) / 1e6)
                .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers(
        "TCP data arrival and read",
        {{"probe", "tcp:tcp_probe"}, {"rcv_space_adjust", "tcp:tcp_rcv_space_adjust"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: --wide.
void decode_tcppktlat(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Settings settings;
    settings.wide = (variant & 1) != 0;
    decode_events(Printer{settings}, options, out, events);
}

int tcppktlat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    double min_ms = 0;
    std::string min_given;
    auto set_min = [&](const std::string& how, double ms) {
        if (!min_given.empty())
            throw UsageError("the minimum latency is given twice (" + min_given + " and " + how +
                             "): give --min MS or min_us, once");
        min_given = how;
        min_ms = ms;
    };
    CommandLine cli("tcppktlat",
                    "Trace how long received TCP data waits before the application reads it.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_option(
        0, "min", "MS", "only waits of at least this many milliseconds (default 0)",
        [&](std::string_view v) { set_min("--min", parse_milliseconds("minimum latency", v)); });
    cli.set_positional(
        "min_us", "only waits of at least this many microseconds", [&](std::string_view v) {
            set_min("min_us", static_cast<double>(
                                  parse_unsigned("minimum latency", v, 0, 3600ULL * 1000 * 1000)) /
                                  1000);
        });
    add_port_option(cli, 'l', "lport", "PORTS", "only these local ports (comma-separated)",
                    "local port", settings.net.local_ports);
    add_port_option(cli, 'r', "rport", "PORTS", "only these remote ports (comma-separated)",
                    "remote port", settings.net.remote_ports);
    add_family_switches(cli, settings.net);
    cli.add_switch('w', "wide", "wide address columns (fit IPv6 addresses)", &settings.wide);
    cli.set_examples("  tcppktlat                  every read of waiting TCP data\n"
                     "  tcppktlat --min 10         data that waited 10 ms or more\n"
                     "  tcppktlat 500              500 us or more (the classic form)\n"
                     "  tcppktlat -l 5432 -o json  on local port 5432, as JSON Lines\n"
                     "  tcppktlat -p 181 -r 443    process 181's reads from remote port 443\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    char min_text[32];
    snprintf(min_text, sizeof min_text, "%g", min_ms);
    return run_event_tool<tcppktlat_bpf>(
        {.name = "tcppktlat",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &settings.net,
         .configure =
             [&](tcppktlat_bpf& skel, const AttachPlan&) {
                 skel.rodata->min_wait_ns = milliseconds_to_ns(min_ms);
             },
         .announcement = std::string("Tracing TCP data waiting ") + min_text +
                         " ms or more to be read... Hit Ctrl-C to end."},
        Printer{settings});
}

} // namespace corescope::tools
