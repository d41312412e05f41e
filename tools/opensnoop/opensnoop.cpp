// opensnoop: trace open(), openat(), openat2() and creat() system-wide.
#include "decoder.h"
#include "event_fields.h"
#include "export_collector.h"
#include "flag_names.h"
#include "run.h"

#include <linux/types.h>
#include "opensnoop/opensnoop.h"
#include "opensnoop.skel.h"

#include <cstddef>
#include <fcntl.h>

namespace corescope::tools {

namespace {

constexpr std::string_view syscall_names[] = {"open", "openat", "openat2", "creat"};

struct Printer {
    bool extended; // -e

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("fd", "FD", 3, Align::right),
                 column("errno", "ERR", 3, Align::right), json_field("syscall"),
                 json_field("flags"), json_field("flag_names"),
                 shown_if(extended, octal(text_column("FLAGS", 8))), json_field("mode"),
                 column("path", "PATH", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<opensnoop_event>(data, size, offsetof(opensnoop_event, path));
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        bool creates = e->flags & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY));
        r.number(e->ret >= 0 ? e->ret : -1)
            .number(errno_of_return(e->ret))
            .text(syscall_names[e->syscall & 3])
            .number(e->flags)
            .lazy([&] { return open_flag_names(e->flags); })
            .number(e->flags)
            .number_if(creates, e->mode)
            .text(tail_string(data, size, e->path))
            .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("open system calls", {{"open", true, true, true},
                                                {"openat"},
                                                {"openat2", true, true, true},
                                                {"creat", true, true, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -e.
void decode_opensnoop(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & 1) != 0}, options, out, events);
}

// corescope export (opt-in: it runs on every open): open calls, and the
// failed ones by errno, counted in the kernel (counts_only: no events, no
// paths read).
std::unique_ptr<ExportCollector> export_opensnoop(const CommonOptions& options) {
    return export_collector<opensnoop_bpf>(
        {.name = "opensnoop",
         .options = options,
         .attach_steps = attach_steps,
         .events = {.ring_bytes = 4096, .wakeup_bytes = 0, .perf_pages_per_cpu = 1},
         .configure = [](opensnoop_bpf& skel,
                         const AttachPlan&) { skel.rodata->counts_only = true; }},
        [](opensnoop_bpf& skel, Exposition& out) {
            const opensnoop_counts& c = skel.bss->open_counts;
            out.family("corescope_opens", MetricType::counter,
                       "open(), openat(), openat2() and creat() calls that returned, failed or "
                       "not, from opensnoop.")
                .add({}, static_cast<double>(__atomic_load_n(&c.calls, __ATOMIC_RELAXED)));
            MetricFamily& failures =
                out.family("corescope_open_failures", MetricType::counter,
                           "Open calls that failed, by errno (its name, as errno(3) has it; a "
                           "series appears with its first failure), from opensnoop.");
            for (int err = 1; err < OPENSNOOP_ERRNO_SLOTS; err++) {
                uint64_t n = __atomic_load_n(&c.by_errno[err], __ATOMIC_RELAXED);
                if (n) failures.add({{"errno", errno_name(err)}}, static_cast<double>(n));
            }
            uint64_t other = __atomic_load_n(&c.by_errno[0], __ATOMIC_RELAXED);
            if (other) failures.add({{"errno", "other"}}, static_cast<double>(other));
        });
}

int opensnoop(int argc, char** argv) {
    CommonOptions options;
    bool extended = false;
    CommandLine cli("opensnoop", "Trace open(), openat(), openat2() and creat() system calls.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration, Flag::prometheus});
    cli.add_switch('e', "extended", "show the open flags (octal), and their names in JSON",
                   &extended);
    cli.set_examples("  opensnoop                 trace all opens\n"
                     "  opensnoop -x              only failed opens\n"
                     "  opensnoop -p 181 -T       PID 181 only, with times\n"
                     "  opensnoop -n nginx -e     commands containing 'nginx', with flags\n"
                     "  opensnoop -o json -d 10   ten seconds of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (options.format == OutputFormat::prometheus) {
        if (options.failed)
            throw UsageError("-o prometheus counts every open and the failed ones: -x does not "
                             "apply");
        return print_expositions(export_opensnoop(options), options);
    }

    return run_event_tool<opensnoop_bpf>(
        {.name = "opensnoop",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing open system calls... Hit Ctrl-C to end."},
        Printer{extended});
}

} // namespace corescope::tools
