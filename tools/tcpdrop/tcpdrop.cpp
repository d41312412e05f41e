// tcpdrop: trace the TCP packets the kernel drops (or, with --all, every
// dropped packet), with the drop reason by name and the kernel stack; with
// -f or -o svg, the drops counted by reason and stack, printed at the end.
#include "decoder.h"
#include "drop_reasons.h"
#include "event_fields.h"
#include "event_stacks.h"
#include "export_collector.h"
#include "map_reader.h"
#include "kernel_features.h"
#include "net_format.h"
#include "output.h"
#include "run.h"
#include "stacks.h"
#include "symbolizer.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcpdrop.skel.h"
#include "tcpdrop/tcpdrop.h"

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace corescope::tools {

namespace {

struct Settings {
    NetFilters net;
    bool all = false;                           // --all
    bool no_stacks = false;                     // --no-stack
    StackOptions stacks{.count_name = "drops"}; // folded: -f, -o svg (no line a drop)
};

struct Printer {
    const Settings& settings;
    std::shared_ptr<const DropReasons> reasons;
    std::shared_ptr<Symbolizer> symbolizer; // none in the decoder: frames as addresses
    // -f, -o svg: each drop's reason (the root a user reads the graph from)
    // and kernel stack.
    std::shared_ptr<EventStackCounts> counts =
        std::make_shared<EventStackCounts>(!settings.no_stacks);

    RecordLayout layout() const {
        return {task_all,
                {time_column(),
                 pid_column(),
                 comm_column(),
                 column("ip", "IP", 2),
                 shown_if(settings.all, column("protocol", "PROTO", 6)),
                 json_field("saddr"),
                 json_field("sport"),
                 text_column("SADDR:SPORT", 21),
                 text_column(">", 1),
                 json_field("daddr"),
                 json_field("dport"),
                 text_column("DADDR:DPORT", 21),
                 column("state", "STATE", 11),
                 json_field("tcp_flags"),
                 text_column("(FLAGS)", 9),
                 json_field("reason"),
                 text_column("REASON", 0),
                 json_field("reason_code"),
                 json_field("addresses_from"),
                 json_field("location"),
                 shown_if(!settings.no_stacks, json_field("kernel_stack"))},
                !settings.stacks.folded};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcpdrop_event>(data, size, offsetof(tcpdrop_event, stack));
        if (!e) return;
        auto sent = tail_array(data, size, e->stack, e->stack_frames);
        std::vector<uint64_t> stack(sent.begin(), sent.end());
        if (settings.stacks.folded) {
            if (comm_matches(task_of(*e).comm, records.options().name))
                counts->add(reasons->label(e->reason), std::move(stack), e->location);
            return;
        }
        bool ip = e->family == family_inet || e->family == family_inet6;
        bool ports = ip && ip_protocol_has_ports(e->ip_proto);
        auto endpoint = [&](const uint8_t* addr, uint16_t port) -> std::string {
            if (!ip) return "-";
            return ports ? format_endpoint(e->family, addr, port) : format_ip(e->family, addr);
        };
        std::string_view reason = reasons->name(e->reason);
        std::string flags = e->has_flags ? tcp_flag_names(e->tcp_flags) : std::string();
        std::string_view from = e->source == TCPDROP_FROM_PACKET   ? "packet"
                                : e->source == TCPDROP_FROM_SOCKET ? "socket"
                                                                   : "";
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.number_or_null(ip, ip_version(e->family))
            .lazy([&] { return ip ? ip_protocol_name(e->ip_proto) : ethertype_name(e->protocol); })
            .text_or_null(ip, format_ip(e->family, e->saddr))
            .number_or_null(ports, e->sport)
            .lazy([&] { return endpoint(e->saddr, e->sport); })
            .text(">")
            .text_or_null(ip, format_ip(e->family, e->daddr))
            .number_or_null(ports, e->dport)
            .lazy([&] { return endpoint(e->daddr, e->dport); })
            .text_or_null(e->state != 0, tcp_state_name(e->state))
            .text_or_null(e->has_flags != 0, flags)
            .lazy([&] { return e->has_flags ? "(" + flags + ")" : std::string("-"); })
            .text_or_null(!reason.empty(), reason)
            .lazy([&] { return reasons->label(e->reason); })
            .number(e->reason)
            .text_or_null(!from.empty(), from)
            .number(e->location);
        ResolvedStack kernel;
        if (!settings.no_stacks)
            kernel = kernel_stack_from(std::move(stack), e->location, symbolizer.get());
        r.lazy([&] { return Formatted{stack_frames_json(kernel)}; }).end();
        // The classic form: the stack under the line.
        if (!settings.no_stacks && !records.json())
            append_event_stack(records.output().buffer(), kernel, "kernel");
    }

    void finish(RecordWriter& records) const {
        if (settings.stacks.folded)
            counts->print(records.options(), settings.stacks, records.output(), symbolizer.get());
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("dropped packets", {{"kfree_skb", "skb:kfree_skb"}}),
            tracepoint_tiers("socket owners (connect, listen)",
                             {{"set_state", "sock:inet_sock_set_state"}}),
            syscall_tiers("socket owners (accept)",
                          {{"accept4", false, true, true}, {"accept", false, true, true}}, true)};
}

// The arguments this kernel's kfree_skb has (the reason since 5.17, the
// receiving socket since 6.11), and its names of the reasons.
void configure_drops(tcpdrop_bpf& skel, DropReasons& reasons) {
    KernelFeatures& features = KernelFeatures::instance();
    int args = features.tracepoint_arg_count("kfree_skb");
    skel.rodata->kfree_skb_has_reason = args >= 3;
    skel.rodata->kfree_skb_has_rx_sk = args >= 4;
    reasons = DropReasons::of_running_kernel();
    features.release_btf();
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): variant bit 0: --all,
// bit 1: --no-stack, bit 2: -f (text only). Reasons show as numbers and
// frames as addresses ([unknown] in -f): a decoder looks up neither the
// kernel's BTF nor its symbols.
void decode_tcpdrop(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    settings.all = (variant & 1) != 0;
    settings.no_stacks = (variant & 2) != 0;
    settings.stacks.folded = (variant & 4) != 0 && options.format == OutputFormat::text;
    decode_events(Printer{settings, std::make_shared<DropReasons>(), nullptr}, options, out,
                  events);
}

// corescope export: dropped TCP packets by drop reason, counted in the
// kernel (counts_only: no events, no stacks, no socket owners), the
// reasons named from the running kernel's BTF (common/drop_reasons.h).
std::unique_ptr<ExportCollector> export_tcpdrop(const CommonOptions& options) {
    auto reasons = std::make_shared<DropReasons>();
    return export_collector<tcpdrop_bpf>(
        {.name = "tcpdrop",
         .options = options,
         .attach_steps = [] { return std::vector<AttachStep>{attach_steps().front()}; },
         .events = {.ring_bytes = 4096, .wakeup_bytes = 0, .perf_pages_per_cpu = 1},
         .configure =
             [reasons](tcpdrop_bpf& skel, const AttachPlan&) {
                 skel.rodata->counts_only = true;
                 skel.rodata->with_stack = false;
                 configure_drops(skel, *reasons);
                 set_map_entries(skel.maps.accepting, 1);
             }},
        [reasons](tcpdrop_bpf& skel, Exposition& out) {
            MetricFamily& drops = out.family(
                "corescope_tcp_drops", MetricType::counter,
                "TCP packets the kernel dropped (skb:kfree_skb), by drop reason (enum "
                "skb_drop_reason without its prefix; a number where the kernel names none), "
                "from tcpdrop.");
            for (const auto& e : read_map<uint32_t, uint64_t>(skel.maps.drop_counts))
                drops.add({{"reason", reasons->label(e.key)}}, static_cast<double>(e.value));
            out.family("corescope_tcp_drops_uncounted", MetricType::counter,
                       "Dropped TCP packets not counted by reason: the table of reasons was "
                       "full.")
                .add({}, static_cast<double>(
                             __atomic_load_n(&skel.bss->drops_uncounted, __ATOMIC_RELAXED)));
        });
}

int tcpdrop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpdrop",
                    "Trace TCP packets the kernel drops, with the drop reason and the kernel "
                    "stack, IPv4 and IPv6.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::print_uid,
                     Flag::duration, Flag::prometheus});
    add_family_switches(cli, settings.net);
    add_port_option(cli, 'P', "port", "PORTS",
                    "only packets from or to these ports (comma-separated)", "port",
                    settings.net.local_ports);
    cli.add_switch(0, "all", "every dropped packet, not only TCP", &settings.all);
    cli.add_switch(0, "no-stack", "leave out the kernel stack", &settings.no_stacks);
    add_event_stack_options(cli, settings.stacks);
    cli.set_examples("  tcpdrop                    trace dropped TCP packets\n"
                     "  tcpdrop -4 -P 80,443       IPv4 to or from ports 80 and 443\n"
                     "  tcpdrop --all --no-stack   every dropped packet, one line each\n"
                     "  tcpdrop -o json            as JSON Lines, the stack as an array\n"
                     "  tcpdrop -d 60 -o svg > drops.svg   a flame graph: reasons, then stacks");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus) {
        if (settings.all || settings.net.family || !settings.net.local_ports.empty() ||
            settings.stacks.folded || !options.pids.empty() || options.tid || options.uid ||
            !options.cgroup.empty() || !options.name.empty())
            throw UsageError("-o prometheus counts every dropped TCP packet by reason: --all, "
                             "-4, -6, -P, -f and the process filters do not apply");
        return print_expositions(export_tcpdrop(options), options);
    }
    check_event_stack_options(settings.stacks, options);

    auto reasons = std::make_shared<DropReasons>();
    ToolSpec<tcpdrop_bpf> spec{
        .name = "tcpdrop",
        .options = options,
        .attach_steps = attach_steps,
        .net_filters = &settings.net,
        .configure =
            [&](tcpdrop_bpf& skel, const AttachPlan&) {
                skel.rodata->all_drops = settings.all;
                skel.rodata->with_stack = !settings.no_stacks;
                configure_drops(skel, *reasons);
                if (reasons->empty())
                    warn("this kernel's BTF names no drop reasons (enum skb_drop_reason): "
                         "reasons are shown as numbers");
            },
        .announcement = "Tracing dropped TCP packets... Hit Ctrl-C to end."};
    std::shared_ptr<Symbolizer> symbolizer;
    if (!settings.no_stacks) symbolizer = std::make_shared<Symbolizer>();
    return run_event_tool(spec, Printer{settings, reasons, symbolizer});
}

} // namespace corescope::tools
