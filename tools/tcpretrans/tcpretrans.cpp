// tcpretrans: trace TCP retransmissions (and tail loss probes), or count
// them per connection.
#include "clock.h"
#include "decoder.h"
#include "filters.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcpretrans.skel.h"
#include "tcpretrans/tcpretrans.h"

#include <algorithm>
#include <cstdio>

namespace corescope::tools {

namespace {

struct Settings {
    NetFilters net;
    bool count = false;
    bool loss_probes = false;
};

const char* type_name(uint32_t type) {
    return type == TCPRETRANS_LOSS_PROBE ? "loss_probe" : "retransmit";
}

struct Printer {
    const CommonOptions& options;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        out.buffer() += "TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < sizeof(tcpretrans_event)) return;
        const auto* e = static_cast<const tcpretrans_event*>(data);
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e->ts_ns);
            JsonObject(b)
                .string("time", when)
                .unsigned_number("pid", e->pid)
                .number("ip", ip_version(e->family))
                .string("laddr", format_ip(e->family, e->laddr))
                .unsigned_number("lport", e->lport)
                .string("raddr", format_ip(e->family, e->raddr))
                .unsigned_number("rport", e->rport)
                .string("type", type_name(e->type))
                .string("state", tcp_state_name(static_cast<int>(e->state)))
                .end_line();
        } else {
            clock.append_hms(b, e->ts_ns);
            b += ' ';
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            append_padded(b, std::to_string(ip_version(e->family)), 2);
            b += ' ';
            append_padded(b, format_endpoint(e->family, e->laddr, e->lport), 20);
            b += e->type == TCPRETRANS_LOSS_PROBE ? " L> " : " R> ";
            append_padded(b, format_endpoint(e->family, e->raddr, e->rport), 20);
            b += ' ';
            b += tcp_state_name(static_cast<int>(e->state));
            b += '\n';
        }
        out.end_record();
    }
};

struct Count {
    tcpretrans_count_key key;
    tcpretrans_count value;
};

std::vector<Count> read_counts(tcpretrans_bpf* skel) {
    std::vector<Count> counts;
    const bpf_map* map = skel->maps.counts;
    tcpretrans_count_key key{};
    tcpretrans_count_key next{};
    const void* prev = nullptr;
    while (bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
        tcpretrans_count value{};
        if (bpf_map__lookup_elem(map, &next, sizeof next, &value, sizeof value, 0) == 0)
            counts.push_back({next, value});
        key = next;
        prev = &key;
    }
    std::sort(counts.begin(), counts.end(), [](const Count& a, const Count& b) {
        return a.value.retransmits + a.value.loss_probes >
               b.value.retransmits + b.value.loss_probes;
    });
    return counts;
}

void print_counts(tcpretrans_bpf* skel, const CommonOptions& options, const Settings& settings,
                  Output& out) {
    std::string& b = out.buffer();
    if (options.format == OutputFormat::text) {
        b += "LADDR:LPORT               RADDR:RPORT              RETRANSMITS";
        b += settings.loss_probes ? " LOSS_PROBES\n" : "\n";
    }
    for (const Count& c : read_counts(skel)) {
        const tcpretrans_count_key& k = c.key;
        if (options.format == OutputFormat::json) {
            JsonObject j(b);
            j.number("ip", ip_version(k.family))
                .string("laddr", format_ip(k.family, k.laddr))
                .unsigned_number("lport", k.lport)
                .string("raddr", format_ip(k.family, k.raddr))
                .unsigned_number("rport", k.rport)
                .unsigned_number("retransmits", c.value.retransmits);
            if (settings.loss_probes) j.unsigned_number("loss_probes", c.value.loss_probes);
            j.end_line();
        } else {
            append_padded(b, format_endpoint(k.family, k.laddr, k.lport), 21);
            b += " <-> ";
            append_padded(b, format_endpoint(k.family, k.raddr, k.rport), 21);
            append_unsigned(b, c.value.retransmits, 12);
            if (settings.loss_probes) append_unsigned(b, c.value.loss_probes, 12);
            b += '\n';
        }
        out.end_record();
    }
    uint64_t dropped = skel->bss->counts_dropped;
    if (dropped > 0)
        std::fprintf(stderr, "tcpretrans: %llu events not counted (table of %u connections full)\n",
                     static_cast<unsigned long long>(dropped),
                     bpf_map__max_entries(skel->maps.counts));
}

std::vector<AttachStep> attach_steps(bool loss_probes) {
    std::vector<AttachStep> steps = {
        {"TCP retransmissions",
         {{{{"btf_retransmit", AttachKind::tp_btf, "tcp_retransmit_skb"}}},
          {{{"raw_retransmit", AttachKind::raw_tp, "tcp_retransmit_skb"}}},
          {{{"tp_retransmit", AttachKind::tracepoint, "tcp:tcp_retransmit_skb"}}}}}};
    // No tracepoint marks a tail loss probe: only a probe on the function.
    if (loss_probes)
        steps.push_back({"TCP tail loss probes (-l)",
                         {{{{"fentry_loss_probe", AttachKind::fentry, "tcp_send_loss_probe"}}},
                          {{{"kprobe_loss_probe", AttachKind::kprobe, "tcp_send_loss_probe"}}}}});
    return steps;
}

} // namespace

// One event's bytes through the printer, for tests/fuzz (common/decoder.h).
void decode_tcpretrans(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                       const void* data, size_t size) {
    Printer printer{options, out, {}};
    printer.event(data, size);
}

int tcpretrans(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpretrans", "Trace TCP retransmissions, IPv4 and IPv6.", {Flag::duration});
    add_family_switches(cli, settings.net);
    cli.add_switch('l', "lossprobe", "also trace tail loss probes (needs fentry or kprobes)",
                   &settings.loss_probes);
    cli.add_switch('C', "count", "count retransmissions per connection; print at the end",
                   &settings.count);
    cli.set_examples("  tcpretrans                 trace TCP retransmissions\n"
                     "  tcpretrans -l              and tail loss probes\n"
                     "  tcpretrans --count -d 60   count per connection for a minute\n"
                     "  tcpretrans -4 -o json      IPv4 only, as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    EventStreamConfig events;
    if (settings.count) events.ring_bytes = 4096; // counting sends no events
    ToolSpec<tcpretrans_bpf> spec{
        .name = "tcpretrans",
        .options = options,
        .attach_steps = [&] { return attach_steps(settings.loss_probes); },
        .net_filters = &settings.net,
        .events = events,
        .configure =
            [&](tcpretrans_bpf& skel, const AttachPlan&) {
                skel.rodata->count_mode = settings.count;
                skel.rodata->retransmit_has_err =
                    KernelFeatures::instance().tracepoint_arg_count("tcp_retransmit_skb") >= 3;
            },
        .announcement = settings.count ? "Counting TCP retransmissions... Hit Ctrl-C to end."
                                       : "Tracing TCP retransmissions... Hit Ctrl-C to end."};
    if (settings.count)
        return run_summary_tool(spec, [&](tcpretrans_bpf& skel, const AttachPlan&, Output& out) {
            return [&] { print_counts(&skel, options, settings, out); };
        });
    return run_event_tool(spec, [&](Output& out) { return Printer{options, out, {}}; });
}

} // namespace corescope::tools
