// tcpconnlat: the latency of each active TCP connect, from connect()'s SYN
// to the handshake's end, with the connecting process.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcpconnlat.skel.h"
#include "tcpconnlat/tcpconnlat.h"

namespace corescope::tools {

namespace {

struct Settings {
    NetFilters net;
    double min_ms = 0;
    bool lport = false;       // -L: the LPORT column
    bool failed_too = false;  // -F
    bool failed_only = false; // -x (CommonOptions::failed)
};

struct Printer {
    const Settings& settings;

    RecordLayout layout() const {
        bool result = settings.failed_too || settings.failed_only;
        return {task_all,
                {pid_column(), comm_column(), column("ip", "IP", 2), column("saddr", "SADDR", 16),
                 shown_if(settings.lport, text_column("LPORT", 5)), json_field("lport"),
                 column("daddr", "DADDR", 16), column("dport", "DPORT", 5),
                 with_text_decimals(2, column("latency_ms", "LAT(ms)", 7, Align::right)),
                 json_field("failed"), shown_if(result, text_column("RESULT", 0))}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcpconnlat_event>(data, size);
        if (!e) return;
        if (Record r = records.begin(task_of(*e)))
            r.number(ip_version(e->family))
                .text(format_ip(e->family, e->laddr))
                .number(e->lport)
                .number(e->lport)
                .text(format_ip(e->family, e->raddr))
                .number(e->rport)
                .real(static_cast<double>(e->latency_ns) / 1e6)
                .boolean(e->failed != 0)
                .text(e->failed ? "failed" : "ok")
                .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("TCP state changes", {{"set_state", "sock:inet_sock_set_state"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -L
// (LPORT); bit 1: -F (failed connects too, the RESULT column).
void decode_tcpconnlat(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    Settings settings;
    settings.lport = (variant & 1) != 0;
    settings.failed_too = (variant & 2) != 0;
    decode_events(Printer{settings}, options, out, events);
}

int tcpconnlat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpconnlat",
                    "Trace the latency of active TCP connects (SYN sent to established), IPv4 and "
                    "IPv6.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    // The minimum, as --min MS or as the classic tool's positional min_ms:
    // once.
    std::string min_given;
    auto set_min = [&](const std::string& how, std::string_view v) {
        if (!min_given.empty())
            throw UsageError("the minimum latency is given twice (" + min_given + " and " + how +
                             "): give --min MS or min_ms, once");
        min_given = how;
        settings.min_ms = parse_milliseconds("minimum latency", v);
    };
    cli.add_option(0, "min", "MS", "only connects that took at least this many milliseconds",
                   [&](std::string_view v) { set_min("--min", v); });
    cli.set_positional("min_ms", "the same as --min MS",
                       [&](std::string_view v) { set_min("min_ms", v); });
    cli.add_switch('L', "lport", "show the local port (LPORT column)", &settings.lport);
    cli.add_switch('F', "failed-too",
                   "also show failed connects (refused, timed out), with a RESULT column",
                   &settings.failed_too);
    add_family_switches(cli, settings.net);
    cli.set_examples("  tcpconnlat                 every connect's latency\n"
                     "  tcpconnlat 10              connects that took 10 ms or more\n"
                     "  tcpconnlat --min 10        the same\n"
                     "  tcpconnlat -L -p 181       process 181's connects, with LPORT\n"
                     "  tcpconnlat -F              failed connects too\n"
                     "  tcpconnlat -x -o json      failed connects only, as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    settings.failed_only = options.failed;

    return run_event_tool<tcpconnlat_bpf>(
        {.name = "tcpconnlat",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &settings.net,
         .configure =
             [&](tcpconnlat_bpf& skel, const AttachPlan&) {
                 skel.rodata->min_latency_ns = milliseconds_to_ns(settings.min_ms);
                 skel.rodata->show_failed = settings.failed_too;
             },
         .announcement = "Tracing TCP connect latency... Hit Ctrl-C to end."},
        Printer{settings});
}

} // namespace corescope::tools
