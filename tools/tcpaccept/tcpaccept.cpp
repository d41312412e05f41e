// tcpaccept: trace TCP connections accepted by processes (accept() and
// accept4()), IPv4 and IPv6, with the accepting process.
#include "clock.h"
#include "columns.h"
#include "decoder.h"
#include "filters.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcpaccept.skel.h"
#include "tcpaccept/tcpaccept.h"

namespace corescope::tools {

namespace {

struct Printer {
    const CommonOptions& options;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        std::string& b = out.buffer();
        append_time_uid_headers(b, options);
        b += "PID     COMM             IP RADDR            RPORT LADDR            LPORT\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < sizeof(tcpaccept_event)) return;
        const auto* e = static_cast<const tcpaccept_event*>(data);
        std::string_view comm = fixed_string(e->comm);
        if (!comm_matches(comm, options.name)) return;
        std::string raddr = format_ip(e->family, e->raddr);
        std::string laddr = format_ip(e->family, e->laddr);
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
                .number("fd", e->fd)
                .number("ip", ip_version(e->family))
                .string("raddr", raddr)
                .unsigned_number("rport", e->rport)
                .string("laddr", laddr)
                .unsigned_number("lport", e->lport)
                .end_line();
        } else {
            append_time_uid_columns(b, options, clock, e->ts_ns, e->uid);
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            append_escaped_padded(b, comm, 16);
            b += ' ';
            append_padded(b, std::to_string(ip_version(e->family)), 2);
            b += ' ';
            append_padded(b, raddr, 16);
            b += ' ';
            append_padded(b, std::to_string(e->rport), 5);
            b += ' ';
            append_padded(b, laddr, 16);
            b += ' ';
            append_unsigned(b, e->lport);
            b += '\n';
        }
        out.end_record();
    }
};

std::vector<AttachStep> attach_steps() {
    auto syscall_point = [](const char* program, const char* target) {
        return AttachPoint{program, AttachKind::tracepoint, target, true};
    };
    return {{"accept system calls",
             {{{syscall_point("tp_exit_accept4", "syscalls:sys_exit_accept4"),
                syscall_point("tp_exit_accept", "syscalls:sys_exit_accept")}},
              {{{"raw_enter", AttachKind::raw_tp, "sys_enter"},
                {"raw_exit", AttachKind::raw_tp, "sys_exit"}}}}}};
}

} // namespace

// One event's bytes through the printer, for tests/fuzz (common/decoder.h).
void decode_tcpaccept(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                      const void* data, size_t size) {
    Printer printer{options, out, {}};
    printer.event(data, size);
}

int tcpaccept(int argc, char** argv) {
    CommonOptions options;
    NetFilters net;
    CommandLine cli(
        "tcpaccept",
        "Trace TCP connections accepted by processes (accept(), accept4()), IPv4 and IPv6.",
        {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::print_uid,
         Flag::duration});
    cli.add_option('P', "port", "PORTS", "only these local ports (comma-separated)",
                   [&](std::string_view v) {
                       auto ports = parse_port_list("port", v);
                       net.local_ports.insert(net.local_ports.end(), ports.begin(), ports.end());
                   });
    add_family_switches(cli, net);
    cli.set_examples("  tcpaccept                  trace all accepted TCP connections\n"
                     "  tcpaccept -T -U            with time and UID columns\n"
                     "  tcpaccept -p 181           only process 181\n"
                     "  tcpaccept -P 80,443        only connections to local ports 80 and 443\n"
                     "  tcpaccept -n nginx -o json commands containing 'nginx', as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<tcpaccept_bpf>(
        {.name = "tcpaccept",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &net,
         .announcement = "Tracing TCP accepts... Hit Ctrl-C to end."},
        [&](Output& out) {
            return Printer{options, out, {}};
        });
}

} // namespace corescope::tools
