// tcprtt: the smoothed round-trip time of TCP connections as log2
// histograms, in all or per local or remote address.
#include "decoder.h"
#include "export_collector.h"
#include "histogram_printer.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the map layouts use __u64 and friends

#include "tcprtt.skel.h"
#include "tcprtt/tcprtt.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <cstdio>

namespace corescope::tools {

namespace {

// -a or -A: one address.
struct AddressFilter {
    uint16_t family = 0; // 0: none
    uint8_t addr[16] = {};
};

AddressFilter parse_address(std::string_view what, std::string_view text) {
    AddressFilter f;
    std::string s(text);
    if (inet_pton(AF_INET, s.c_str(), f.addr) == 1)
        f.family = family_inet;
    else if (inet_pton(AF_INET6, s.c_str(), f.addr) == 1)
        f.family = family_inet6;
    else
        throw UsageError("invalid " + std::string(what) + " '" + s +
                         "': not an IPv4 or IPv6 address");
    return f;
}

struct Settings {
    NetFilters net;
    AddressFilter laddr;    // -a
    AddressFilter raddr;    // -A
    bool per_laddr = false; // -b
    bool per_raddr = false; // -B
    bool extended = false;  // -e
};

using Entry = MapEntry<tcprtt_key, tcprtt_hist>;

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : settings_(settings), milliseconds_(options.milliseconds),
          histograms_(options, out, label_fields(settings),
                      options.milliseconds ? "msecs" : "usecs") {}

    // One interval's histograms, as read from the map.
    void print(std::vector<Entry> entries) {
        histograms_.begin_interval();
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            if (a.key.family != b.key.family) return a.key.family < b.key.family;
            if (int c = std::memcmp(a.key.laddr, b.key.laddr, sizeof a.key.laddr)) return c < 0;
            return std::memcmp(a.key.raddr, b.key.raddr, sizeof a.key.raddr) < 0;
        });
        bool split = settings_.per_laddr || settings_.per_raddr;
        // Unsplit, there is one histogram, so an idle interval says so too.
        if (entries.empty() && !split) entries.push_back({});
        for (const Entry& e : entries) {
            const tcprtt_key& k = e.key;
            histograms_.print(
                Histogram::log2_slots(e.value.slots),
                [&](Record& r) {
                    r.number(ip_version(k.family))
                        .lazy([&] { return format_ip(k.family, k.laddr); })
                        .lazy([&] { return format_ip(k.family, k.raddr); })
                        .real(average(e.value));
                },
                [&] {
                    std::string label;
                    if (settings_.per_laddr)
                        label += "Local Address = " + format_ip(k.family, k.laddr);
                    if (settings_.per_laddr && settings_.per_raddr) label += ", ";
                    if (settings_.per_raddr)
                        label += "Remote Address = " + format_ip(k.family, k.raddr);
                    if (settings_.extended) {
                        char avg[64];
                        std::snprintf(avg, sizeof avg, "%savg = %.1f %s", label.empty() ? "" : " [",
                                      average(e.value), histograms_.unit().c_str());
                        label += avg;
                        if (split) label += ']';
                    }
                    return label;
                });
        }
    }

  private:
    static std::vector<Field> label_fields(const Settings& settings) {
        bool split = settings.per_laddr || settings.per_raddr;
        return {shown_if(split, json_field("ip")),
                shown_if(settings.per_laddr, json_field("laddr")),
                shown_if(settings.per_raddr, json_field("raddr")),
                shown_if(settings.extended, json_field("avg"))};
    }

    // The mean smoothed RTT in the histogram's unit.
    double average(const tcprtt_hist& h) const {
        if (h.count == 0) return 0;
        double us = static_cast<double>(h.sum_us) / static_cast<double>(h.count);
        return milliseconds_ ? us / 1000 : us;
    }

    const Settings& settings_;
    bool milliseconds_;
    HistogramPrinter histograms_;
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("TCP segments received (smoothed RTT)", {{"probe", "tcp:tcp_probe"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): map entries (key, then
// histogram); variant bit 0: -b, bit 1: -B, bit 2: -e.
void decode_tcprtt(const CommonOptions& options, uint32_t variant, Output& out,
                   std::span<const RecordedEvent> events) {
    Settings settings;
    settings.per_laddr = (variant & 1) != 0;
    settings.per_raddr = (variant & 2) != 0;
    settings.extended = (variant & 4) != 0;
    Printer(options, settings, out).print(recorded_entries<tcprtt_key, tcprtt_hist>(events));
}

int tcprtt(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli(
        "tcprtt", "Summarize the smoothed RTT of TCP connections as a histogram.",
        {Flag::time, Flag::duration, Flag::milliseconds, Flag::interval, Flag::prometheus});
    add_port_option(cli, 'L', "lport", "PORTS",
                    "only connections on these local ports (comma-separated)", "local port",
                    settings.net.local_ports);
    add_port_option(cli, 'P', "rport", "PORTS",
                    "only connections to these remote ports (comma-separated)", "remote port",
                    settings.net.remote_ports);
    cli.add_option('a', "laddr", "ADDR", "only connections with this local address",
                   [&](std::string_view v) { settings.laddr = parse_address("local address", v); });
    cli.add_option(
        'A', "raddr", "ADDR", "only connections with this remote address",
        [&](std::string_view v) { settings.raddr = parse_address("remote address", v); });
    cli.add_switch('b', "byladdr", "one histogram per local address", &settings.per_laddr);
    cli.add_switch('B', "byraddr", "one histogram per remote address", &settings.per_raddr);
    cli.add_switch('e', "extension", "show the average RTT of each histogram too",
                   &settings.extended);
    add_family_switches(cli, settings.net);
    cli.set_examples("  tcprtt                    one histogram, printed at Ctrl-C\n"
                     "  tcprtt 1 10               ten 1-second histograms\n"
                     "  tcprtt -m -T 1            per second, in milliseconds, with times\n"
                     "  tcprtt -L 80 -b           local port 80, one histogram per local address\n"
                     "  tcprtt -P 443 -B -e       remote port 443, per remote address, with means\n"
                     "  tcprtt -A 10.0.0.2        only connections to 10.0.0.2\n"
                     "  tcprtt -o json 5          a JSON Lines record every 5 seconds\n"
                     "  tcprtt -o prometheus -d 60   one histogram in seconds for Prometheus\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    for (const AddressFilter* f : {&settings.laddr, &settings.raddr})
        if (f->family && settings.net.family && f->family != settings.net.family)
            throw UsageError(
                std::string("-a and -A must name addresses of the family -4/-6 chose"));

    bool prometheus = options.format == OutputFormat::prometheus;
    if (prometheus &&
        (settings.per_laddr || settings.per_raddr || settings.extended || options.milliseconds))
        throw UsageError("-o prometheus prints one histogram in seconds: -b, -B, -e and -m do "
                         "not apply");
    // The kernel's sum of the samples, for the histogram's _sum.
    if (prometheus) settings.extended = true;

    ToolSpec<tcprtt_bpf> spec{.name = "tcprtt",
                              .options = options,
                              .attach_steps = attach_steps,
                              .net_filters = &settings.net,
                              .configure =
                                  [&](tcprtt_bpf& skel, const AttachPlan&) {
                                      skel.rodata->per_laddr = settings.per_laddr;
                                      skel.rodata->per_raddr = settings.per_raddr;
                                      skel.rodata->extended = settings.extended;
                                      skel.rodata->unit_us = options.milliseconds ? 1000 : 1;
                                      skel.rodata->laddr_family = settings.laddr.family;
                                      skel.rodata->raddr_family = settings.raddr.family;
                                      std::memcpy(const_cast<uint8_t*>(skel.rodata->laddr_filter),
                                                  settings.laddr.addr, 16);
                                      std::memcpy(const_cast<uint8_t*>(skel.rodata->raddr_filter),
                                                  settings.raddr.addr, 16);
                                  },
                              .announcement = interval_announcement(options, "Tracing TCP RTT")};
    if (prometheus)
        return print_prometheus(spec, [](tcprtt_bpf& skel, Exposition& out) {
            std::vector<uint64_t> slots(TCPRTT_SLOTS, 0);
            uint64_t sum_us = 0;
            for (const auto& e :
                 read_map<tcprtt_key, tcprtt_hist>(skel.maps.hists, TCPRTT_MAX_KEYS)) {
                for (size_t i = 0; i < TCPRTT_SLOTS; i++)
                    slots[i] += e.value.slots[i];
                sum_us += e.value.sum_us;
            }
            out.family("corescope_tcp_rtt_seconds", MetricType::histogram,
                       "Smoothed round-trip time of TCP connections at each segment received, "
                       "from tcprtt.",
                       "seconds")
                .add({}, log2_histogram(slots, export_us, static_cast<double>(sum_us) * 1e-6));
        });
    return run_summary_tool<tcprtt_bpf>(
        spec, [&](tcprtt_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out), skel = &skel,
                    reported_full = uint64_t{0}]() mutable {
                printer.print(take_map<tcprtt_key, tcprtt_hist>(skel->maps.hists, TCPRTT_MAX_KEYS));
                uint64_t full = skel->bss->hists_full;
                if (full > reported_full)
                    warn("%llu RTT samples not counted (table of %d histograms full)",
                         static_cast<unsigned long long>(full - reported_full), TCPRTT_MAX_KEYS);
                reported_full = full;
            };
        });
}

} // namespace corescope::tools
