// tcpsubnet: bytes sent over TCP by destination subnet, every interval (1 s
// unless given): the first subnet of the list that holds a connection's
// remote address gets its bytes.
#include "decoder.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"
#include "table_printer.h"
#include "tcp_bytes.h"

#include <linux/types.h>
#include "tcpsubnet/tcpsubnet.h" // before the skeleton, whose rodata holds its subnets
#include "tcpsubnet.skel.h"

#include <arpa/inet.h>
#include <cstring>

namespace corescope::tools {

namespace {

// The classic tcpsubnet's list: loopback's first address, the three private
// ranges, and everything else.
constexpr const char* default_subnets =
    "127.0.0.1/32,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,0.0.0.0/0";

struct Subnet {
    tcpsubnet_net net{};
    std::string text; // as given, normalized: "10.0.0.0/8"
};

// "10.0.0.0/8", "fd00::/8", "192.168.1.7" (/32), "::1" (/128). Bits past
// the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8).
Subnet parse_subnet(std::string_view list, std::string_view item) {
    auto bad = [&](const std::string& why) {
        return UsageError("invalid subnet '" + std::string(item) + "' in '" + std::string(list) +
                          "': " + why);
    };
    std::string address(item);
    std::optional<uint32_t> prefix;
    if (size_t slash = address.find('/'); slash != std::string::npos) {
        std::string bits = address.substr(slash + 1);
        address.resize(slash);
        if (bits.empty() || bits.size() > 3 ||
            bits.find_first_not_of("0123456789") != std::string::npos)
            throw bad("the prefix length is not a number");
        prefix = static_cast<uint32_t>(std::stoul(bits));
    }
    Subnet s;
    if (inet_pton(AF_INET, address.c_str(), s.net.addr) == 1)
        s.net.family = family_inet;
    else if (inet_pton(AF_INET6, address.c_str(), s.net.addr) == 1)
        s.net.family = family_inet6;
    else
        throw bad("not an IPv4 or IPv6 address");
    uint32_t max = s.net.family == family_inet ? 32 : 128;
    if (!prefix) prefix = max;
    if (*prefix > max) throw bad("the prefix is longer than " + std::to_string(max) + " bits");
    s.net.prefix = static_cast<uint16_t>(*prefix);
    for (uint32_t bit = 0; bit < *prefix; bit++)
        s.net.mask[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
    for (int i = 0; i < 16; i++)
        s.net.addr[i] &= s.net.mask[i];
    s.text = format_ip(s.net.family, s.net.addr) + "/" + std::to_string(*prefix);
    return s;
}

std::vector<Subnet> parse_subnets(std::string_view list) {
    std::vector<Subnet> out;
    size_t start = 0;
    while (true) {
        size_t comma = list.find(',', start);
        std::string_view item = list.substr(start, comma - start);
        if (item.empty())
            throw UsageError("invalid subnet list '" + std::string(list) + "': an empty item");
        out.push_back(parse_subnet(list, item));
        if (out.size() > TCPSUBNET_MAX)
            throw UsageError("too many subnets in '" + std::string(list) + "': at most " +
                             std::to_string(TCPSUBNET_MAX));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

// -f: the unit of the text's figures. Bits in powers of 1000 (as link rates
// are given), bytes in powers of 1024.
struct Unit {
    char letter = 'B';
    const char* name = "bytes";
    uint64_t multiply = 1; // 8 for bits
    uint64_t divide = 1;
};

Unit parse_unit(std::string_view v) {
    static const Unit units[] = {{'b', "bits", 8, 1},          {'k', "kbits", 8, 1000},
                                 {'m', "mbits", 8, 1000000},   {'g', "gbits", 8, 1000000000},
                                 {'B', "bytes", 1, 1},         {'K', "KiB", 1, 1024},
                                 {'M', "MiB", 1, 1024 * 1024}, {'G', "GiB", 1, 1024 * 1024 * 1024}};
    if (v.size() == 1)
        for (const Unit& u : units)
            if (u.letter == v[0]) return u;
    throw UsageError("invalid unit '" + std::string(v) +
                     "' (b, k, m, g for bits; B, K, M, G for "
                     "bytes)");
}

struct Settings {
    NetFilters net;
    std::vector<Subnet> subnets;
    Unit unit;
};

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : settings_(settings), time_line_(options.time),
          table_(options, out, row_layout(settings), table_layout()), last_(monotonic_seconds()) {}

    // counts: the cumulative bytes of each slot (TCPSUBNET_SLOTS of them).
    void print(const std::vector<uint64_t>& counts) {
        double now = monotonic_seconds();
        double interval = now - last_;
        last_ = now;
        std::vector<uint64_t> bytes(TCPSUBNET_SLOTS);
        for (size_t i = 0; i < bytes.size() && i < counts.size(); i++) {
            uint64_t before = i < before_.size() ? before_[i] : 0;
            bytes[i] = counts[i] >= before ? counts[i] - before : counts[i];
        }
        before_ = counts;
        uint64_t total = 0;
        std::string preamble;
        if (!table_.json() && !time_line_) { // -T's would be the same
            preamble = "[";
            append_wall_time(preamble);
            preamble += "]\n";
        }
        table_.begin(preamble);
        for (size_t i = 0; i < settings_.subnets.size(); i++) {
            total += bytes[i];
            if (!bytes[i]) continue;
            const Unit& u = settings_.unit;
            table_.row()
                .text(settings_.subnets[i].text)
                .number(bytes[i])
                .number(bytes[i] * u.multiply / u.divide)
                .end();
        }
        table_.end([&](Record& t) {
            t.text(iso_time_now()).real(interval).number(total).number(bytes[TCPSUBNET_UNMATCHED]);
        });
    }

  private:
    static RecordLayout row_layout(const Settings& settings) {
        RecordLayout rows{0,
                          {column("subnet", "SUBNET", 21), json_field("bytes"),
                           text_column(settings.unit.name, 9, Align::right)}};
        rows.text_header = false; // the classic lines: subnet and figure
        return rows;
    }
    static RecordLayout table_layout() {
        return {0,
                {json_field("time"), json_field("interval_s"), json_field("bytes"),
                 json_field("unmatched_bytes")}};
    }

    Settings settings_;
    bool time_line_;
    TablePrinter table_;
    double last_;
    std::vector<uint64_t> before_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of the
// per-CPU array (slot, then its bytes summed over the CPUs) as read at the
// end of one interval, with the default subnets; variant bit 0: -f K.
void decode_tcpsubnet(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    Settings settings;
    settings.subnets = parse_subnets(default_subnets);
    if (variant & 1) settings.unit = parse_unit("K");
    std::vector<uint64_t> counts(TCPSUBNET_SLOTS);
    for (const auto& e : recorded_entries<uint32_t, uint64_t>(events))
        if (e.key < TCPSUBNET_SLOTS) counts[e.key] = e.value;
    Printer(options, settings, out).print(counts);
}

int tcpsubnet(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    settings.subnets = parse_subnets(default_subnets);
    CommandLine cli(
        "tcpsubnet",
        "Bytes sent over TCP by destination subnet, every interval (1 s unless given).",
        {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::duration, Flag::interval});
    add_family_switches(cli, settings.net);
    cli.add_option(0, "subnets", "LIST",
                   std::string("subnets to sum, comma-separated; the first that holds the "
                               "destination counts it (default ") +
                       default_subnets + ")",
                   [&](std::string_view v) { settings.subnets = parse_subnets(v); });
    cli.add_option('f', "format", "UNIT",
                   "text figures in b, k, m, g (bits, powers of 1000) or B, K, M, G (bytes, "
                   "powers of 1024; default B)",
                   [&](std::string_view v) { settings.unit = parse_unit(v); });
    cli.set_examples("  tcpsubnet                              the classic subnets, every second\n"
                     "  tcpsubnet --subnets 10.1.0.0/16,0.0.0.0/0 -f K 5\n"
                     "                                         one subnet and the rest, in KiB\n"
                     "  tcpsubnet -p 181 -o json 10            process 181, JSON every 10 s");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;

    return run_summary_tool<tcpsubnet_bpf>(
        {.name = "tcpsubnet",
         .options = options,
         .attach_steps = [] { return std::vector<AttachStep>{tcp_bytes_sent_step()}; },
         .net_filters = &settings.net,
         .configure =
             [&](tcpsubnet_bpf& skel, const AttachPlan&) {
                 for (size_t i = 0; i < settings.subnets.size(); i++)
                     std::memcpy(const_cast<tcpsubnet_net*>(&skel.rodata->subnets[i]),
                                 &settings.subnets[i].net, sizeof(tcpsubnet_net));
                 skel.rodata->subnet_count = static_cast<uint32_t>(settings.subnets.size());
             },
         .announcement = interval_announcement(options, "Tracing TCP bytes sent by subnet")},
        [&](tcpsubnet_bpf& skel, const AttachPlan&, Output& out) {
            return [&skel, printer = Printer(options, settings, out)]() mutable {
                std::vector<uint64_t> counts(TCPSUBNET_SLOTS);
                for (const auto& e : read_percpu_map<uint32_t, uint64_t>(
                         skel.maps.sent, [](uint64_t&sum, uint64_t one) { sum += one; }))
                    if (e.key < TCPSUBNET_SLOTS) counts[e.key] = e.value;
                printer.print(counts);
            };
        });
}

} // namespace corescope::tools
