// tcpconnect: trace active TCP connections (connect()), IPv4 and IPv6, or
// count them per source, destination and port.
#include "decoder.h"
#include "event_fields.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcpconnect.skel.h"
#include "tcpconnect/tcpconnect.h"

#include <algorithm>
#include <cstdio>

namespace corescope::tools {

namespace {

struct Settings {
    NetFilters net;
    bool count = false;
    bool sport = false;
};

struct Printer {
    const Settings& settings;

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("ip", "IP", 2), column("saddr", "SADDR", 16),
                 shown_if(settings.sport, text_column("SPORT", 5)), json_field("sport"),
                 column("daddr", "DADDR", 16), column("dport", "DPORT", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcpconnect_event>(data, size);
        if (!e) return;
        if (Record r = records.begin(task_of(*e)))
            r.number(ip_version(e->family))
                .text(format_ip(e->family, e->saddr))
                .number(e->sport)
                .number(e->sport)
                .text(format_ip(e->family, e->daddr))
                .number(e->dport)
                .end();
    }
};

using CountEntry = MapEntry<tcpconnect_count_key, uint64_t>;

// -C: connections per source, destination and port, most first.
struct CountPrinter {
    const Settings& settings;

    RecordLayout layout() const {
        return {0,
                {json_field("ip"), column("saddr", "LADDR", 25),
                 shown_if(settings.sport, column("sport", "LPORT", 5)),
                 column("daddr", "RADDR", 25), column("dport", "RPORT", 6),
                 column("connects", "CONNECTS", 9, Align::right)}};
    }

    void print(RecordWriter& records, std::vector<CountEntry> counts) const {
        std::sort(counts.begin(), counts.end(),
                  [](const auto& a, const auto& b) { return a.value > b.value; });
        records.header();
        for (const CountEntry& c : counts)
            records.begin()
                .number(ip_version(c.key.family))
                .text(format_ip(c.key.family, c.key.saddr))
                .number(c.key.sport)
                .text(format_ip(c.key.family, c.key.daddr))
                .number(c.key.dport)
                .number(c.value)
                .end();
    }
};

// Connections the full table could not count, said once at the end.
void report_dropped(tcpconnect_bpf* skel) {
    uint64_t dropped = skel->bss->counts_dropped;
    if (dropped > 0)
        warn("%llu connections not counted (table of %u full)",
             static_cast<unsigned long long>(dropped), bpf_map__max_entries(skel->maps.counts));
}

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("TCP state changes", {{"set_state", "sock:inet_sock_set_state"}}),
            // The source port is chosen after the move to SYN_SENT: the
            // event waits for connect() to return.
            syscall_tiers("connect() returns", {{"connect", false, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: --sport; bit 1: -C, the
// entries of the counts map (key, then the count).
void decode_tcpconnect(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    Settings settings;
    settings.sport = (variant & 1) != 0;
    if (!(variant & 2)) return decode_events(Printer{settings}, options, out, events);
    CountPrinter printer{settings};
    RecordWriter records(options, out, printer.layout());
    printer.print(records, recorded_entries<tcpconnect_count_key, uint64_t>(events));
}

int tcpconnect(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpconnect", "Trace active TCP connections (connect()), IPv4 and IPv6.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    add_port_option(cli, 'P', "port", "PORTS", "only these destination ports (comma-separated)",
                    "port", settings.net.remote_ports);
    add_family_switches(cli, settings.net);
    cli.add_switch('C', "count",
                   "count connections per source, destination and port; print at the end",
                   &settings.count);
    cli.add_switch('s', "sport", "show the source port (and count per source port with -C)",
                   &settings.sport);
    cli.set_examples("  tcpconnect                 trace all TCP connects\n"
                     "  tcpconnect -T -U           with time and UID columns\n"
                     "  tcpconnect -p 181          only process 181\n"
                     "  tcpconnect -P 80,443       only connects to ports 80 and 443\n"
                     "  tcpconnect -C -d 10        count connects for ten seconds\n"
                     "  tcpconnect -o json -s      JSON Lines, with source ports");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (settings.count && (options.time || options.print_uid || !options.name.empty()))
        throw UsageError(
            "-C counts in the kernel per address and port: -T, -U and -n do not apply");

    EventStreamConfig events;
    if (settings.count) events.ring_bytes = 4096; // counting sends no events
    ToolSpec<tcpconnect_bpf> spec{
        .name = "tcpconnect",
        .options = options,
        .attach_steps = attach_steps,
        .net_filters = &settings.net,
        .events = events,
        .configure =
            [&](tcpconnect_bpf& skel, const AttachPlan&) {
                skel.rodata->count_mode = settings.count;
                skel.rodata->count_sport = settings.sport;
            },
        .announcement = settings.count ? "Counting TCP connects... Hit Ctrl-C to end."
                                       : "Tracing TCP connects... Hit Ctrl-C to end."};
    if (settings.count)
        return run_summary_tool(spec, [&](tcpconnect_bpf& skel, const AttachPlan&, Output& out) {
            CountPrinter printer{settings};
            return [&, printer, records = RecordWriter(options, out, printer.layout())]() mutable {
                printer.print(records, read_map<tcpconnect_count_key, uint64_t>(skel.maps.counts));
                report_dropped(&skel);
            };
        });
    return run_event_tool(spec, Printer{settings});
}

} // namespace corescope::tools
