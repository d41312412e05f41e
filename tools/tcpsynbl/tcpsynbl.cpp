// tcpsynbl: how long listening sockets' backlogs are when connections
// complete their handshake, as log2 histograms per backlog limit (or per
// listening port).
#include "decoder.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the map layouts use __u64 and friends

#include "tcpsynbl.skel.h"
#include "tcpsynbl/tcpsynbl.h"

#include <algorithm>
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

// The handshake's end where fentry or kprobes reach it (every completed
// handshake, the queue's length before it); else the listener's wake-up
// (only those queued, the length after, less the one queued).
std::vector<AttachStep> attach_steps() {
    AttachStep step{"TCP handshakes completed on listening sockets",
                    {{{{"fentry_v4", AttachKind::fentry, "tcp_v4_syn_recv_sock"},
                       {"fentry_v6", AttachKind::fentry, "tcp_v6_syn_recv_sock", true}}},
                     {{{"kprobe_v4", AttachKind::kprobe, "tcp_v4_syn_recv_sock"},
                       {"kprobe_v6", AttachKind::kprobe, "tcp_v6_syn_recv_sock", true}}}}};
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
                    {Flag::time, Flag::duration, Flag::interval});
    add_family_switches(cli, settings.net);
    cli.add_switch(0, "per-port", "one histogram per listening port (and backlog limit)",
                   &settings.per_port);
    cli.set_examples("  tcpsynbl                  histograms per backlog limit, printed at Ctrl-C\n"
                     "  tcpsynbl 1 10             ten 1-second summaries\n"
                     "  tcpsynbl --per-port -T 5  per listening port, every 5 seconds, with times\n"
                     "  tcpsynbl -4 -o json 10    IPv4 only, a JSON Lines record every 10 s\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_summary_tool<tcpsynbl_bpf>(
        {.name = "tcpsynbl",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &settings.net,
         .configure = [&](tcpsynbl_bpf& skel,
                          const AttachPlan&) { skel.rodata->per_port = settings.per_port; },
         .announcement = interval_announcement(options, "Tracing SYN backlog size")},
        [&](tcpsynbl_bpf& skel, const AttachPlan&, Output& out) {
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
