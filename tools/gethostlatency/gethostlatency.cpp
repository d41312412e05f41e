// gethostlatency: the latency of host name lookups (getaddrinfo,
// gethostbyname, gethostbyname2) through uprobes on the C library.
#include "decoder.h"
#include "event_fields.h"
#include "host_lookups.h"
#include "run.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "gethostlatency.skel.h"
#include "gethostlatency/gethostlatency.h"

#include <cstddef>
#include <cstring>
#include <sys/stat.h>

namespace corescope::tools {

namespace {

std::vector<AttachStep> attach_steps(const std::vector<std::string>& libcs) {
    return {{"host name lookups",
             {host_lookup_uprobes(
                 libcs, [](std::string_view func) { return std::string(func) + "_entry"; },
                 "lookup_return")}}};
}

struct Printer {
    RecordLayout layout() const {
        return {task_time | task_pid | task_tid | task_comm,
                {time_column(), pid_column(), comm_column(), json_field("function"),
                 column("latency_ms", "LATms", 10, Align::right), json_field("failed"),
                 column("host", "HOST", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e =
            event_in<gethostlatency_event>(data, size, offsetof(gethostlatency_event, host));
        if (!e) return;
        // getaddrinfo returns 0 or an EAI_ code; gethostbyname* a pointer or NULL.
        bool failed = e->func == GETHOSTLATENCY_GETADDRINFO ? e->ret != 0 : e->ret == 0;
        if (Record r = records.begin(task_of(*e)))
            r.text(host_lookup_functions[e->func % 3])
                .real(static_cast<double>(e->lat_ns) / 1e6)
                .boolean(failed)
                .text(tail_string(data, size, e->host))
                .end();
    }
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_gethostlatency(const CommonOptions& options, uint32_t, Output& out,
                           std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int gethostlatency(int argc, char** argv) {
    CommonOptions options;
    std::string libc_option;
    CommandLine cli("gethostlatency",
                    "Show the latency of host name lookups: getaddrinfo(), gethostbyname() and "
                    "gethostbyname2() in the C library.",
                    {Flag::pid, Flag::tid, Flag::name, Flag::duration});
    add_libc_option(cli, libc_option, "probe this C library");
    cli.set_examples("  gethostlatency                 all lookups\n"
                     "  gethostlatency -p 181          lookups of PID 181 (and its C library)\n"
                     "  gethostlatency --libc /srv/root/lib/libc.so.6\n"
                     "  gethostlatency -o json -d 60   one minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<gethostlatency_bpf>(
        {.name = "gethostlatency",
         .options = options,
         .attach_steps = [&] { return attach_steps(libc_paths(libc_option, options.pids)); },
         .announcement = "Tracing host name lookups... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
