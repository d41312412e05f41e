// tcpretrans: trace TCP retransmissions (and tail loss probes), or count
// them per connection.
#include "decoder.h"
#include "event_fields.h"
#include "export_collector.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

// The shared layouts before the skeleton, whose .bss holds one of them.
#include "tcpretrans/tcpretrans.h"

#include "tcpretrans.skel.h"

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
    RecordLayout layout() const {
        return {task_time | task_pid,
                {time_column(), pid_column(), column("ip", "IP", 2), json_field("laddr"),
                 json_field("lport"), text_column("LADDR:LPORT", 20), json_field("raddr"),
                 json_field("rport"), text_column("T>", 2), text_column("RADDR:RPORT", 20),
                 json_field("type"), column("state", "STATE", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcpretrans_event>(data, size);
        if (!e) return;
        records.begin(task_of(*e))
            .number(ip_version(e->family))
            .text(format_ip(e->family, e->laddr))
            .number(e->lport)
            .lazy([&] { return format_endpoint(e->family, e->laddr, e->lport); })
            .text(format_ip(e->family, e->raddr))
            .number(e->rport)
            .text(e->type == TCPRETRANS_LOSS_PROBE ? "L>" : "R>")
            .lazy([&] { return format_endpoint(e->family, e->raddr, e->rport); })
            .text(type_name(e->type))
            .text(tcp_state_name(static_cast<int>(e->state)))
            .end();
    }
};

using CountEntry = MapEntry<tcpretrans_count_key, tcpretrans_count>;

// --count: retransmissions (and loss probes) per connection, most first.
struct CountPrinter {
    const Settings& settings;

    RecordLayout layout() const {
        return {0,
                {json_field("ip"), json_field("laddr"), json_field("lport"),
                 text_column("LADDR:LPORT", 21), text_column(" ", 3), json_field("raddr"),
                 json_field("rport"), text_column("RADDR:RPORT", 21),
                 column("retransmits", "RETRANSMITS", 11, Align::right),
                 shown_if(settings.loss_probes,
                          column("loss_probes", "LOSS_PROBES", 11, Align::right))}};
    }

    void print(RecordWriter& records, std::vector<CountEntry> counts) const {
        std::sort(counts.begin(), counts.end(), [](const CountEntry& a, const CountEntry& b) {
            return a.value.retransmits + a.value.loss_probes >
                   b.value.retransmits + b.value.loss_probes;
        });
        records.header();
        for (const CountEntry& c : counts) {
            const tcpretrans_count_key& k = c.key;
            records.begin()
                .number(ip_version(k.family))
                .text(format_ip(k.family, k.laddr))
                .number(k.lport)
                .lazy([&] { return format_endpoint(k.family, k.laddr, k.lport); })
                .text("<->")
                .text(format_ip(k.family, k.raddr))
                .number(k.rport)
                .lazy([&] { return format_endpoint(k.family, k.raddr, k.rport); })
                .number(c.value.retransmits)
                .number(c.value.loss_probes)
                .end();
        }
    }
};

// Events the full table could not count, said once at the end.
void report_dropped(tcpretrans_bpf* skel) {
    uint64_t dropped = skel->bss->counts_dropped;
    if (dropped > 0)
        warn("%llu events not counted (table of %u connections full)",
             static_cast<unsigned long long>(dropped), bpf_map__max_entries(skel->maps.counts));
}

std::vector<AttachStep> attach_steps(bool loss_probes) {
    std::vector<AttachStep> steps = {
        tracepoint_tiers("TCP retransmissions", {{"retransmit", "tcp:tcp_retransmit_skb"}})};
    // No tracepoint marks a tail loss probe: only a probe on the function.
    if (loss_probes)
        steps.push_back(
            function_tiers("TCP tail loss probes (-l)",
                           {{.function = "tcp_send_loss_probe", .programs = "loss_probe"}}));
    return steps;
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: --count, the entries of
// the counts map (key, then the counts); bit 1: -l.
void decode_tcpretrans(const CommonOptions& options, uint32_t variant, Output& out,
                       std::span<const RecordedEvent> events) {
    if (!(variant & 1)) return decode_events(Printer{}, options, out, events);
    Settings settings;
    settings.loss_probes = (variant & 2) != 0;
    CountPrinter printer{settings};
    RecordWriter records(options, out, printer.layout());
    printer.print(records, recorded_entries<tcpretrans_count_key, tcpretrans_count>(events));
}

// corescope export: retransmitted segments, and tail loss probes where the
// kernel can probe tcp_send_loss_probe() (fentry or a kprobe: not 6.18
// here), counted in the kernel (counts_only: no events).
std::unique_ptr<ExportCollector> export_tcpretrans(const CommonOptions& options) {
    KernelFeatures& features = KernelFeatures::instance();
    bool loss_probes = false;
    for (AttachKind kind : {AttachKind::fentry, AttachKind::kprobe})
        loss_probes = loss_probes || (features.supports(kind, nullptr) &&
                                      features.has_target(kind, "tcp_send_loss_probe"));
    return export_collector<tcpretrans_bpf>(
        {.name = "tcpretrans",
         .options = options,
         .attach_steps = [loss_probes] { return attach_steps(loss_probes); },
         .events = {.ring_bytes = 4096, .wakeup_bytes = 0, .perf_pages_per_cpu = 1},
         .configure =
             [](tcpretrans_bpf& skel, const AttachPlan&) {
                 skel.rodata->counts_only = true;
                 skel.rodata->retransmit_has_err =
                     KernelFeatures::instance().tracepoint_arg_count("tcp_retransmit_skb") >= 3;
                 set_map_entries(skel.maps.counts, 1);
             }},
        [loss_probes](tcpretrans_bpf& skel, Exposition& out) {
            out.family("corescope_tcp_retransmits", MetricType::counter,
                       "TCP segments retransmitted (tcp:tcp_retransmit_skb), from tcpretrans.")
                .add({}, static_cast<double>(
                             __atomic_load_n(&skel.bss->totals.retransmits, __ATOMIC_RELAXED)));
            if (loss_probes)
                out.family("corescope_tcp_loss_probes", MetricType::counter,
                           "TCP tail loss probes sent (tcp_send_loss_probe()), from tcpretrans.")
                    .add({}, static_cast<double>(
                                 __atomic_load_n(&skel.bss->totals.loss_probes, __ATOMIC_RELAXED)));
        });
}

int tcpretrans(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpretrans", "Trace TCP retransmissions, IPv4 and IPv6.",
                    {Flag::duration, Flag::prometheus});
    add_family_switches(cli, settings.net);
    cli.add_switch('l', "lossprobe", "also trace tail loss probes (needs fentry or kprobes)",
                   &settings.loss_probes);
    cli.add_switch('C', "count", "count retransmissions per connection; print at the end",
                   &settings.count);
    cli.set_examples("  tcpretrans                 trace TCP retransmissions\n"
                     "  tcpretrans -l              and tail loss probes\n"
                     "  tcpretrans --count -d 60   count per connection for a minute\n"
                     "  tcpretrans -4 -o json      IPv4 only, as JSON Lines");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus) {
        if (settings.count || settings.net.family)
            throw UsageError("-o prometheus counts every retransmission (and loss probes where "
                             "the kernel can trace them): --count, -4 and -6 do not apply");
        return print_expositions(export_tcpretrans(options), options);
    }

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
            CountPrinter printer{settings};
            return [&, printer, records = RecordWriter(options, out, printer.layout())]() mutable {
                printer.print(records,
                              read_map<tcpretrans_count_key, tcpretrans_count>(skel.maps.counts));
                report_dropped(&skel);
            };
        });
    return run_event_tool(spec, Printer{});
}

} // namespace corescope::tools
