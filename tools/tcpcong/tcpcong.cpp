// tcpcong: the time each TCP connection spends in each congestion state
// (open, disorder, cwr, recovery, loss), per interval or until the end.
#include "clock.h"
#include "decoder.h"
#include "map_reader.h"
#include "net_format.h"
#include "run.h"
#include "table_printer.h"

#include <linux/types.h> // the map layouts use __u64 and friends

#include "tcpcong.skel.h"
#include "tcpcong/tcpcong.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

namespace corescope::tools {

namespace {

struct Settings {
    NetFilters net;
};

using Entry = MapEntry<uint64_t, tcpcong_conn>;

// A connection's totals at a moment: each state's time, the changes.
struct Totals {
    std::array<uint64_t, TCPCONG_STATES> ns{};
    uint64_t changes = 0;
};

// The totals printed for an open connection, with its endpoints: a closed
// connection's socket may be a new connection's by the next print.
struct Printed {
    Totals totals;
    tcpcong_conn endpoints;
};

bool same_endpoints(const tcpcong_conn& a, const tcpcong_conn& b) {
    return a.family == b.family && a.lport == b.lport && a.rport == b.rport &&
           std::equal(std::begin(a.laddr), std::end(a.laddr), std::begin(b.laddr)) &&
           std::equal(std::begin(a.raddr), std::end(a.raddr), std::begin(b.raddr));
}

Totals totals_at(const tcpcong_conn& c, uint64_t now_ns) {
    Totals t;
    for (int i = 0; i < TCPCONG_STATES; i++)
        t.ns[i] = c.state_ns[i];
    // The span in the current state, up to now, for one still open.
    if (!c.closed && c.state < TCPCONG_STATES && now_ns > c.changed_ns)
        t.ns[c.state] += now_ns - c.changed_ns;
    t.changes = c.changes;
    return t;
}

class Printer {
  public:
    Printer(const CommonOptions& options, Output& out)
        : table_(options, out, row_layout(), table_layout()), last_(monotonic_seconds()) {}

    // One interval: each connection's time since the last interval (the
    // totals it had then are kept here).
    void print(std::vector<Entry> entries, uint64_t now_ns) {
        double now = monotonic_seconds();
        double interval = now - last_;
        last_ = now;
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            const tcpcong_conn &x = a.value, &y = b.value;
            return std::make_tuple(x.family, std::to_array(x.laddr), x.lport,
                                   std::to_array(x.raddr), x.rport, a.key) <
                   std::make_tuple(y.family, std::to_array(y.laddr), y.lport,
                                   std::to_array(y.raddr), y.rport, b.key);
        });
        std::map<uint64_t, Printed> seen;
        table_.begin();
        for (const Entry& e : entries) {
            const tcpcong_conn& c = e.value;
            Totals now_totals = totals_at(c, now_ns);
            Totals before;
            if (auto it = printed_.find(e.key);
                it != printed_.end() && same_endpoints(it->second.endpoints, c))
                before = it->second.totals;
            if (!c.closed) seen[e.key] = {now_totals, c};
            auto ms = [&](int state) {
                uint64_t a = now_totals.ns[state], b = before.ns[state];
                return static_cast<double>(a > b ? a - b : 0) / 1e6;
            };
            uint64_t changes =
                now_totals.changes > before.changes ? now_totals.changes - before.changes : 0;
            table_.row()
                .number(ip_version(c.family))
                .text(format_ip(c.family, c.laddr))
                .number(c.lport)
                .lazy([&] { return format_endpoint(c.family, c.laddr, c.lport); })
                .text(format_ip(c.family, c.raddr))
                .number(c.rport)
                .lazy([&] { return format_endpoint(c.family, c.raddr, c.rport); })
                .real(ms(TCPCONG_OPEN))
                .real(ms(TCPCONG_DISORDER))
                .real(ms(TCPCONG_CWR))
                .real(ms(TCPCONG_RECOVERY))
                .real(ms(TCPCONG_LOSS))
                .number(changes)
                .boolean(c.closed != 0)
                .end();
        }
        printed_ = std::move(seen);
        table_.end(
            [&](Record& t) { t.text(iso_time_now()).real(interval).number(entries.size()); });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {json_field("ip"), json_field("laddr"), json_field("lport"),
                 text_column("LADDR:LPORT", 21), json_field("raddr"), json_field("rport"),
                 text_column("RADDR:RPORT", 21),
                 with_text_decimals(0, column("open_ms", "OPEN_MS", 8, Align::right)),
                 with_text_decimals(0, column("disorder_ms", "DISORD_MS", 9, Align::right)),
                 with_text_decimals(0, column("cwr_ms", "CWR_MS", 8, Align::right)),
                 with_text_decimals(0, column("recovery_ms", "RECOV_MS", 8, Align::right)),
                 with_text_decimals(0, column("loss_ms", "LOSS_MS", 8, Align::right)),
                 column("changes", "CHGS", 5, Align::right), json_field("closed")}};
    }
    static RecordLayout table_layout() {
        return {0, {json_field("time"), json_field("interval_s"), json_field("connections")}};
    }

    TablePrinter table_;
    double last_;
    std::map<uint64_t, Printed> printed_; // of the connections still open
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("TCP congestion state changes",
                             {{"cong_state", "tcp:tcp_cong_state_set"}}),
            tracepoint_tiers("TCP state changes", {{"set_state", "sock:inet_sock_set_state"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): both maps' entries
// (the key, socket address or closed key, then the connection; told apart
// by their size), as one interval ending at the latest change among them.
void decode_tcpcong(const CommonOptions& options, uint32_t, Output& out,
                    std::span<const RecordedEvent> events) {
    std::vector<Entry> entries;
    for (const RecordedEvent& e : events) {
        size_t key_size = e.size == sizeof(tcpcong_closed_key) + sizeof(tcpcong_conn)
                              ? sizeof(tcpcong_closed_key)
                              : sizeof(uint64_t);
        if (e.size < key_size + sizeof(tcpcong_conn)) continue;
        Entry entry; // a closed key starts with the socket's address
        std::memcpy(&entry.key, e.data, sizeof entry.key);
        std::memcpy(&entry.value, static_cast<const char*>(e.data) + key_size, sizeof entry.value);
        entries.push_back(entry);
    }
    uint64_t now_ns = 0;
    for (const Entry& e : entries)
        now_ns = std::max<uint64_t>(now_ns, e.value.changed_ns);
    Printer(options, out).print(std::move(entries), now_ns);
}

int tcpcong(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("tcpcong",
                    "Time each TCP connection spends in each congestion state (open, disorder, "
                    "cwr, recovery, loss).",
                    {Flag::time, Flag::duration, Flag::interval});
    add_port_option(cli, 'L', "localport", "PORTS", "only these local ports (comma-separated)",
                    "local port", settings.net.local_ports);
    add_port_option(cli, 'R', "remoteport", "PORTS", "only these remote ports (comma-separated)",
                    "remote port", settings.net.remote_ports);
    add_family_switches(cli, settings.net);
    cli.set_examples("  tcpcong                   every connection's times, printed at Ctrl-C\n"
                     "  tcpcong 1 10              ten 1-second tables\n"
                     "  tcpcong -L 80 -T 5        connections on local port 80, every 5 s\n"
                     "  tcpcong -R 443 -o json 10 to remote port 443, JSON Lines every 10 s\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_summary_tool<tcpcong_bpf>(
        {.name = "tcpcong",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &settings.net,
         .announcement = interval_announcement(options, "Tracing TCP congestion states")},
        [&](tcpcong_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, out), map = skel.maps.conns,
                    closed_map = skel.maps.closed_conns]() mutable {
                // The closed map first: a connection that closes between
                // the two reads is read from neither now and from the
                // closed map next time, never twice.
                std::vector<Entry> entries;
                for (auto& e :
                     take_map<tcpcong_closed_key, tcpcong_conn>(closed_map, TCPCONG_MAX_CONNS))
                    entries.push_back({e.key.sk, e.value});
                // Closed ones left in the open map (the closed map was
                // full) are deleted once printed.
                std::vector<uint64_t> printed_closed;
                for (auto& e : read_map<uint64_t, tcpcong_conn>(map, TCPCONG_MAX_CONNS)) {
                    if (e.value.closed) printed_closed.push_back(e.key);
                    entries.push_back(e);
                }
                printer.print(std::move(entries), monotonic_ns());
                for (uint64_t key : printed_closed)
                    bpf_map__delete_elem(map, &key, sizeof key, 0);
            };
        });
}

} // namespace corescope::tools
