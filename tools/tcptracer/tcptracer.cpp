// tcptracer: connects, accepts and closes of TCP connections, one line each,
// with the process that owns the connection.
#include "decoder.h"
#include "event_fields.h"
#include "net_format.h"
#include "run.h"

#include <linux/types.h> // the event layouts use __u64 and friends

#include "tcptracer.skel.h"
#include "tcptracer/tcptracer.h"

#include <string_view>

namespace corescope::tools {

namespace {

std::string_view type_name(uint8_t type) {
    switch (type) {
    case TCPTRACER_CONNECT:
        return "connect";
    case TCPTRACER_ACCEPT:
        return "accept";
    case TCPTRACER_CLOSE:
        return "close";
    default:
        return "unknown";
    }
}

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {text_column("T", 1), json_field("type"), pid_column(), comm_column(),
                 column("ip", "IP", 2), column("saddr", "SADDR", 16), column("daddr", "DADDR", 16),
                 column("sport", "SPORT", 6), column("dport", "DPORT", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<tcptracer_event>(data, size);
        if (!e) return;
        char type[2] = {static_cast<char>(e->type), '\0'};
        if (type_name(e->type) == "unknown") type[0] = '?';
        if (Record r = records.begin(task_of(*e)))
            r.text(type)
                .text(type_name(e->type))
                .number(ip_version(e->family))
                .text(format_ip(e->family, e->laddr))
                .text(format_ip(e->family, e->raddr))
                .number(e->lport)
                .number(e->rport)
                .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {tracepoint_tiers("TCP state changes", {{"set_state", "sock:inet_sock_set_state"}}),
            syscall_tiers("accept returns",
                          {{"accept4", false, true, true}, {"accept", false, true, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_tcptracer(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int tcptracer(int argc, char** argv) {
    CommonOptions options;
    NetFilters net;
    CommandLine cli("tcptracer",
                    "Trace connects (C), accepts (A) and closes (X) of TCP connections, with the "
                    "owning process.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    add_family_switches(cli, net);
    cli.set_examples("  tcptracer                  every connect, accept and close\n"
                     "  tcptracer -T -p 181        those of process 181, with times\n"
                     "  tcptracer -4 -o json       IPv4 only, as JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<tcptracer_bpf>(
        {.name = "tcptracer",
         .options = options,
         .attach_steps = attach_steps,
         .net_filters = &net,
         .announcement = "Tracing TCP connects, accepts and closes... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
