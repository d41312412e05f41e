// tcptop: the TCP connections that moved the most bytes each interval, per
// process: received and sent, refreshed like top on a terminal, as lines in
// a pipe, one JSON record per interval with -o json.
#include "decoder.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"
#include "tcp_bytes.h"
#include "text_file.h"
#include "top_table.h"

#include <linux/types.h>
#include "tcptop.skel.h"
#include "tcptop/tcptop.h"

namespace corescope::tools {

namespace {

enum class SortKey { all, sent, received };

struct Settings {
    NetFilters net;
    TopOptions top;
    bool no_summary = false; // -S
    SortKey sort = SortKey::all;
};

using Entry = MapEntry<tcptop_key, tcptop_bytes>;

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool clear,
            LoadAverage load)
        : sort_(settings.sort),
          table_(options, out, settings.top, clear, row_layout(),
                 {json_field("rx_bytes"), json_field("tx_bytes"), json_field("connections")},
                 std::move(load), !settings.no_summary) {}

    void print(std::vector<Entry> entries) {
        uint64_t received = 0, sent = 0;
        for (const Entry& e : entries) {
            received += e.value.received;
            sent += e.value.sent;
        }
        auto weight = [&](const Entry& e) {
            switch (sort_) {
            case SortKey::sent:
                return e.value.sent;
            case SortKey::received:
                return e.value.received;
            case SortKey::all:
                break;
            }
            return e.value.sent + e.value.received;
        };
        size_t connections = table_.rank(entries, [&](const Entry& a, const Entry& b) {
            if (weight(a) != weight(b)) return weight(a) > weight(b);
            if (a.key.pid != b.key.pid) return a.key.pid < b.key.pid;
            if (a.key.lport != b.key.lport) return a.key.lport < b.key.lport;
            return a.key.rport < b.key.rport;
        });
        table_.begin();
        for (const Entry& e : entries) {
            const tcptop_key& k = e.key;
            table_.row()
                .number(k.pid)
                .text(fixed_string(e.value.comm))
                .number(ip_version(k.family))
                .text(format_ip(k.family, k.laddr))
                .number(k.lport)
                .lazy([&] { return format_endpoint(k.family, k.laddr, k.lport); })
                .text(format_ip(k.family, k.raddr))
                .number(k.rport)
                .lazy([&] { return format_endpoint(k.family, k.raddr, k.rport); })
                .number(e.value.received)
                .number(e.value.received / 1024)
                .number(e.value.sent)
                .number(e.value.sent / 1024)
                .end();
        }
        table_.end([&](Record& t) { t.number(received).number(sent).number(connections); });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {column("pid", "PID", 7), column("comm", "COMM", 16), json_field("ip"),
                 json_field("laddr"), json_field("lport"), text_column("LADDR", 21),
                 json_field("raddr"), json_field("rport"), text_column("RADDR", 21),
                 json_field("rx_bytes"), text_column("RX_KB", 7, Align::right),
                 json_field("tx_bytes"), text_column("TX_KB", 7, Align::right)}};
    }

    SortKey sort_;
    TopTable table_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval's map. Variant bit 0: -S; bit 1: -r 2 -s received; bit 2: the
// screen cleared as on a terminal. The load average is a fixed string.
void decode_tcptop(const CommonOptions& options, uint32_t variant, Output& out,
                   std::span<const RecordedEvent> events) {
    Settings settings;
    settings.no_summary = (variant & 1) != 0;
    if (variant & 2) {
        settings.top.rows = 2;
        settings.sort = SortKey::received;
    }
    Printer(options, settings, out, (variant & 4) != 0, fixed_load_average)
        .print(recorded_entries<tcptop_key, tcptop_bytes>(events));
}

int tcptop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcptop",
                    "TCP connections by bytes received and sent, per process, every interval "
                    "(1 s unless given).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval});
    add_family_switches(cli, settings.net);
    add_top_flags(cli, settings.top, "lines", "connections");
    cli.add_switch('S', "nosummary", "no load average line", &settings.no_summary);
    cli.add_option('s', "sort", "KEY", "sort by all (received + sent, default), sent or received",
                   [&](std::string_view v) {
                       if (v == "all")
                           settings.sort = SortKey::all;
                       else if (v == "sent")
                           settings.sort = SortKey::sent;
                       else if (v == "received")
                           settings.sort = SortKey::received;
                       else
                           throw UsageError("invalid sort key '" + std::string(v) +
                                            "' (all, sent or received)");
                   });
    cli.set_examples("  tcptop                     refresh every second, like top\n"
                     "  tcptop -C 5 3              three summaries 5 s apart, screen not cleared\n"
                     "  tcptop -p 181 -s sent      only process 181, most sent first\n"
                     "  tcptop -4 -r 5             IPv4 only, five connections\n"
                     "  tcptop -o json 10          JSON Lines, a record every 10 seconds");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;
    bool clear = top_clears_screen(options, settings.top);

    return run_summary_tool<tcptop_bpf>(
        {.name = "tcptop",
         .options = options,
         .attach_steps =
             [] {
                 return std::vector<AttachStep>{tcp_bytes_sent_step(), tcp_bytes_received_step()};
             },
         .net_filters = &settings.net,
         .announcement = interval_announcement(options, "Tracing TCP bytes")},
        [&](tcptop_bpf& skel, const AttachPlan&, Output& out) {
            return [&skel, printer = Printer(options, settings, out, clear,
                                             [] { return load_average(); })]() mutable {
                printer.print(take_map<tcptop_key, tcptop_bytes>(skel.maps.bytes));
                uint64_t dropped =
                    __atomic_exchange_n(&skel.bss->bytes_dropped, 0, __ATOMIC_RELAXED);
                if (dropped)
                    warn("%llu bytes not counted (table of %d connections full)",
                         static_cast<unsigned long long>(dropped), TCPTOP_CONNECTIONS);
            };
        });
}

} // namespace corescope::tools
