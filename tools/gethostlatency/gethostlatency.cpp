// gethostlatency: the latency of host name lookups (getaddrinfo,
// gethostbyname, gethostbyname2) through uprobes on the C library.
#include "clock.h"
#include "decoder.h"
#include "filters.h"
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
    const CommonOptions& options;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        out.buffer() += "TIME     PID     COMM                  LATms HOST\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < offsetof(gethostlatency_event, host)) return;
        const auto* e = static_cast<const gethostlatency_event*>(data);
        std::string_view comm = fixed_string(e->comm);
        if (!comm_matches(comm, options.name)) return;
        size_t room = size - offsetof(gethostlatency_event, host);
        std::string_view host(e->host, strnlen(e->host, std::min(room, sizeof e->host)));
        double lat_ms = static_cast<double>(e->lat_ns) / 1e6;
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e->ts_ns);
            // getaddrinfo returns 0 or an EAI_ code; gethostbyname* a pointer or NULL.
            bool failed = e->func == GETHOSTLATENCY_GETADDRINFO ? e->ret != 0 : e->ret == 0;
            JsonObject(b)
                .string("time", when)
                .unsigned_number("pid", e->pid)
                .unsigned_number("tid", e->tid)
                .string("comm", comm)
                .string("function", host_lookup_functions[e->func % 3])
                .real("latency_ms", lat_ms, 3)
                .boolean("failed", failed)
                .string("host", host)
                .end_line();
        } else {
            clock.append_hms(b, e->ts_ns);
            b += ' ';
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            append_escaped_padded(b, comm, 16);
            char lat[32];
            snprintf(lat, sizeof lat, " %10.3f ", lat_ms);
            b += lat;
            append_text_escaped(b, host);
            b += '\n';
        }
        out.end_record();
    }
};

} // namespace

// One event's bytes through the printer, for tests/fuzz (common/decoder.h).
void decode_gethostlatency(const CommonOptions& options, [[maybe_unused]] uint32_t variant,
                           Output& out, const void* data, size_t size) {
    Printer printer{options, out, {}};
    printer.event(data, size);
}

int gethostlatency(int argc, char** argv) {
    CommonOptions options;
    std::string libc_option;
    CommandLine cli("gethostlatency",
                    "Show the latency of host name lookups: getaddrinfo(), gethostbyname() and "
                    "gethostbyname2() in the C library.",
                    {Flag::pid, Flag::tid, Flag::name, Flag::duration});
    cli.add_option(0, "libc", "PATH", "probe this C library (default: the one processes use)",
                   [&](std::string_view v) {
                       std::string path(v);
                       struct stat st {};
                       if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                           throw UsageError("invalid C library '" + path + "': no such file");
                       libc_option = path;
                   });
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
        [&](Output& out) {
            return Printer{options, out, {}};
        });
}

} // namespace corescope::tools
