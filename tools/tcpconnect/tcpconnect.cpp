// tcpconnect: trace active TCP connections (connect()), IPv4 and IPv6, or
// count them per source, destination and port.
#include "clock.h"
#include "columns.h"
#include "decoder.h"
#include "filters.h"
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
    const CommonOptions& options;
    const Settings& settings;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        std::string& b = out.buffer();
        append_time_uid_headers(b, options);
        b += "PID     COMM             IP SADDR            ";
        if (settings.sport) b += "SPORT ";
        b += "DADDR            DPORT\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < sizeof(tcpconnect_event)) return;
        const auto* e = static_cast<const tcpconnect_event*>(data);
        std::string_view comm = fixed_string(e->comm);
        if (!comm_matches(comm, options.name)) return;
        std::string saddr = format_ip(e->family, e->saddr);
        std::string daddr = format_ip(e->family, e->daddr);
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e->ts_ns);
            JsonObject(b)
                .string("time", when)
                .unsigned_number("pid", e->pid)
                .unsigned_number("tid", e->tid)
                .unsigned_number("uid", e->uid)
                .string("comm", comm)
                .number("ip", ip_version(e->family))
                .string("saddr", saddr)
                .unsigned_number("sport", e->sport)
                .string("daddr", daddr)
                .unsigned_number("dport", e->dport)
                .end_line();
        } else {
            append_time_uid_columns(b, options, clock, e->ts_ns, e->uid);
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            append_escaped_padded(b, comm, 16);
            b += ' ';
            append_padded(b, std::to_string(ip_version(e->family)), 2);
            b += ' ';
            append_padded(b, saddr, 16);
            b += ' ';
            if (settings.sport) {
                append_padded(b, std::to_string(e->sport), 5);
                b += ' ';
            }
            append_padded(b, daddr, 16);
            b += ' ';
            append_unsigned(b, e->dport);
            b += '\n';
        }
        out.end_record();
    }
};

struct Count {
    tcpconnect_count_key key;
    uint64_t connects;
};

std::vector<Count> read_counts(tcpconnect_bpf* skel) {
    std::vector<Count> counts;
    const bpf_map* map = skel->maps.counts;
    tcpconnect_count_key key{};
    tcpconnect_count_key next{};
    const void* prev = nullptr;
    while (bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
        uint64_t value = 0;
        if (bpf_map__lookup_elem(map, &next, sizeof next, &value, sizeof value, 0) == 0)
            counts.push_back({next, value});
        key = next;
        prev = &key;
    }
    std::sort(counts.begin(), counts.end(),
              [](const Count& a, const Count& b) { return a.connects > b.connects; });
    return counts;
}

void print_counts(tcpconnect_bpf* skel, const CommonOptions& options, const Settings& settings,
                  Output& out) {
    std::vector<Count> counts = read_counts(skel);
    std::string& b = out.buffer();
    if (options.format == OutputFormat::text) {
        append_padded(b, "LADDR", 25);
        b += ' ';
        if (settings.sport) b += "LPORT ";
        append_padded(b, "RADDR", 25);
        b += " RPORT  CONNECTS\n";
    }
    for (const Count& c : counts) {
        std::string saddr = format_ip(c.key.family, c.key.saddr);
        std::string daddr = format_ip(c.key.family, c.key.daddr);
        if (options.format == OutputFormat::json) {
            JsonObject j(b);
            j.number("ip", ip_version(c.key.family)).string("saddr", saddr);
            if (settings.sport) j.unsigned_number("sport", c.key.sport);
            j.string("daddr", daddr)
                .unsigned_number("dport", c.key.dport)
                .unsigned_number("connects", c.connects)
                .end_line();
        } else {
            append_padded(b, saddr, 25);
            b += ' ';
            if (settings.sport) {
                append_padded(b, std::to_string(c.key.sport), 5);
                b += ' ';
            }
            append_padded(b, daddr, 25);
            b += ' ';
            append_padded(b, std::to_string(c.key.dport), 6);
            b += ' ';
            append_unsigned(b, c.connects, 9);
            b += '\n';
        }
        out.end_record();
    }
    uint64_t dropped = skel->bss->counts_dropped;
    if (dropped > 0)
        std::fprintf(stderr, "tcpconnect: %llu connections not counted (table of %u full)\n",
                     static_cast<unsigned long long>(dropped),
                     bpf_map__max_entries(skel->maps.counts));
}

std::vector<AttachStep> attach_steps() {
    return {{"TCP state changes",
             {{{{"btf_set_state", AttachKind::tp_btf, "inet_sock_set_state"}}},
              {{{"raw_set_state", AttachKind::raw_tp, "inet_sock_set_state"}}},
              {{{"tp_set_state", AttachKind::tracepoint, "sock:inet_sock_set_state"}}}}},
            // The source port is chosen after the move to SYN_SENT: the
            // event waits for connect() to return.
            {"connect() returns",
             {{{{"tp_exit_connect", AttachKind::tracepoint, "syscalls:sys_exit_connect"}}},
              {{{"raw_exit", AttachKind::raw_tp, "sys_exit"}}}}}};
}

} // namespace

// For tests/fuzz (common/decoder.h): one event through the printer; variant bit 0: --sport.
void decode_tcpconnect(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                       const void* data, size_t size) {
    Settings settings;
    settings.sport = (variant & 1) != 0;
    Printer printer{options, settings, out, {}};
    printer.event(data, size);
}

int tcpconnect(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpconnect", "Trace active TCP connections (connect()), IPv4 and IPv6.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_option('P', "port", "PORTS", "only these destination ports (comma-separated)",
                   [&](std::string_view v) {
                       auto ports = parse_port_list("port", v);
                       settings.net.remote_ports.insert(settings.net.remote_ports.end(),
                                                        ports.begin(), ports.end());
                   });
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
                     "  tcpconnect -o json -s      JSON Lines, with source ports\n");
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
            return [&] { print_counts(&skel, options, settings, out); };
        });
    return run_event_tool(spec, [&](Output& out) { return Printer{options, settings, out, {}}; });
}

} // namespace corescope::tools
