// tcpsynbl: how long listening sockets' backlogs are when connections
// complete their handshake, as log2 histograms per backlog limit (or per
// listening port).
#include "decoder.h"
#include "export_collector.h"
#include "histogram_printer.h"
#include "kernel_types.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the map layouts use __u64 and friends

#include "tcpsynbl.skel.h"
#include "tcpsynbl/tcpsynbl.h"

#include <algorithm>
#include <bpf/btf.h>
#include <cstdio>
#include <sys/utsname.h>
#include <tuple>

namespace corescope::tools {

namespace {

struct Settings {
    NetFilters net;
    bool per_port = false; // --per-port
};

using Entry = MapEntry<tcpsynbl_key, tcpsynbl_hist>;

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : settings_(settings), histograms_(options, out, label_fields(settings), "backlog") {}

    void print(std::vector<Entry> entries) {
        histograms_.begin_interval();
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            return std::make_tuple(a.key.backlog_max, a.key.port, a.key.family) <
                   std::make_tuple(b.key.backlog_max, b.key.port, b.key.family);
        });
        for (const Entry& e : entries) {
            const tcpsynbl_key& k = e.key;
            histograms_.print(
                Histogram::log2_slots(e.value.slots),
                [&](Record& r) {
                    r.number(k.backlog_max).number(ip_version(k.family)).number(k.port);
                },
                [&] {
                    std::string label = "backlog_max = " + std::to_string(k.backlog_max);
                    if (settings_.per_port)
                        label += ", port = " + std::to_string(k.port) + " (IPv" +
                                 std::to_string(ip_version(k.family)) + ")";
                    return label;
                });
        }
    }

  private:
    static std::vector<Field> label_fields(const Settings& settings) {
        return {json_field("backlog_max"), shown_if(settings.per_port, json_field("ip")),
                shown_if(settings.per_port, json_field("port"))};
    }

    const Settings& settings_;
    HistogramPrinter histograms_;
};

// Whether a BPF trampoline (fentry) can take function here. x86-64's took
// at most six arguments before Linux 6.6, and Debian's 6.1 gives
// tcp_v4_syn_recv_sock a seventh (opt_child_init, a backport): its fentry
// program loads there, but attaching it fails (ENOTSUPP). Unknown: yes.
bool trampoline_takes(const char* function) {
    struct utsname uts {};
    int major = 0, minor = 0;
    if (uname(&uts) != 0 || std::sscanf(uts.release, "%d.%d", &major, &minor) != 2 || major > 6 ||
        (major == 6 && minor >= 6))
        return true;
    auto types = KernelTypes::open("/sys/kernel/btf/vmlinux");
    int id = types ? types->find(function, BTF_KIND_FUNC) : -1;
    const btf_type* func = id > 0 ? types->type(static_cast<uint32_t>(id)) : nullptr;
    const btf_type* proto = func ? types->type(func->type) : nullptr;
    return !proto || btf_vlen(proto) <= 6;
}

// The handshake's end where fentry or kprobes reach it (every completed
// handshake, the queue's length before it); else the listener's wake-up
// (only those queued, the length after, less the one queued). fentry only
// where its trampoline takes the function's arguments (above).
std::vector<AttachStep> attach_steps() {
    AttachStep step{"TCP handshakes completed on listening sockets", {}};
    if (trampoline_takes("tcp_v4_syn_recv_sock"))
        step.ways.push_back({{{"fentry_v4", AttachKind::fentry, "tcp_v4_syn_recv_sock"},
                              {"fentry_v6", AttachKind::fentry, "tcp_v6_syn_recv_sock", true}}});
    step.ways.push_back({{{"kprobe_v4", AttachKind::kprobe, "tcp_v4_syn_recv_sock"},
                          {"kprobe_v6", AttachKind::kprobe, "tcp_v6_syn_recv_sock", true}}});
    AttachStep woken = tracepoint_tiers("", {{"data_ready", "sock:sk_data_ready"}});
    step.ways.insert(step.ways.end(), woken.ways.begin(), woken.ways.end());
    return {step};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): map entries (key, then
// histogram); variant bit 0: --per-port.
void decode_tcpsynbl(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_port = (variant & 1) != 0;
    Printer(options, settings, out).print(recorded_entries<tcpsynbl_key, tcpsynbl_hist>(events));
}

int tcpsynbl(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpsynbl",
                    "Summarize the backlog of listening TCP sockets as connections complete, "
                    "as histograms.",
                    {Flag::time, Flag::duration, Flag::interval, Flag::prometheus});
    add_family_switches(cli, settings.net);
    cli.add_switch(0, "per-port", "one histogram per listening port (and backlog limit)",
                   &settings.per_port);
    cli.set_examples("  tcpsynbl                  histograms per backlog limit, printed at Ctrl-C\n"
                     "  tcpsynbl 1 10             ten 1-second summaries\n"
                     "  tcpsynbl --per-port -T 5  per listening port, every 5 seconds, with times\n"
                     "  tcpsynbl -4 -o json 10    IPv4 only, a JSON Lines record every 10 s\n"
                     "  tcpsynbl -o prometheus -d 60   histograms for Prometheus\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    bool prometheus = options.format == OutputFormat::prometheus;

    ToolSpec<tcpsynbl_bpf> spec{.name = "tcpsynbl",
                                .options = options,
                                .attach_steps = attach_steps,
                                .net_filters = &settings.net,
                                .configure =
                                    [&](tcpsynbl_bpf& skel, const AttachPlan&) {
                                        skel.rodata->per_port = settings.per_port;
                                        if (prometheus)
                                            configure_hist_sums(skel, TCPSYNBL_MAX_KEYS);
                                    },
                                .announcement =
                                    interval_announcement(options, "Tracing SYN backlog size")};
    if (prometheus)
        return print_prometheus(spec, [&](tcpsynbl_bpf& skel, Exposition& out) {
            MetricFamily& family = out.family(
                "corescope_tcp_listen_backlog", MetricType::histogram,
                "Connections waiting in a listening socket's accept queue as each TCP handshake "
                "completes, by the queue's limit (and with --per-port the port), from tcpsynbl.");
            for (const Entry& e :
                 read_map<tcpsynbl_key, tcpsynbl_hist>(skel.maps.hists, TCPSYNBL_MAX_KEYS)) {
                const tcpsynbl_key& k = e.key;
                Labels labels{{"backlog_max", std::to_string(k.backlog_max)}};
                if (settings.per_port) {
                    labels.emplace_back("ip", std::to_string(ip_version(k.family)));
                    labels.emplace_back("port", std::to_string(k.port));
                }
                double sum = static_cast<double>(hist_sum(skel.maps.hist_sums, k));
                family.add(labels, log2_histogram(slots_of(e.value.slots), 1, sum));
            }
        });
    return run_summary_tool<tcpsynbl_bpf>(
        spec, [&](tcpsynbl_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out), skel = &skel,
                    reported_full = uint64_t{0}]() mutable {
                printer.print(
                    take_map<tcpsynbl_key, tcpsynbl_hist>(skel->maps.hists, TCPSYNBL_MAX_KEYS));
                uint64_t full = skel->bss->hists_full;
                if (full > reported_full)
                    warn("%llu backlog samples not counted (table of %d histograms full)",
                         static_cast<unsigned long long>(full - reported_full), TCPSYNBL_MAX_KEYS);
                reported_full = full;
            };
        });
}

} // namespace corescope::tools
