// opensnoop: trace open(), openat(), openat2() and creat() system-wide.
#include "clock.h"
#include "columns.h"
#include "decoder.h"
#include "filters.h"
#include "run.h"

#include <linux/types.h>
#include "opensnoop/opensnoop.h"
#include "opensnoop.skel.h"

#include <cstddef>
#include <fcntl.h>

namespace corescope::tools {

namespace {

const char* const syscall_names[] = {"open", "openat", "openat2", "creat"};

// The open flags worth naming, in the order open(2) lists them.
std::string open_flag_names(uint64_t flags) {
    std::string out;
    switch (flags & O_ACCMODE) {
    case O_RDONLY: out = "O_RDONLY"; break;
    case O_WRONLY: out = "O_WRONLY"; break;
    case O_RDWR: out = "O_RDWR"; break;
    default: out = "O_ACCMODE"; break;
    }
    static const std::pair<uint64_t, const char*> names[] = {
        {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},         {O_NOCTTY, "O_NOCTTY"},
        {O_TRUNC, "O_TRUNC"},       {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
        {O_DSYNC, "O_DSYNC"},       {O_ASYNC, "O_ASYNC"},       {O_DIRECT, "O_DIRECT"},
        {O_LARGEFILE, "O_LARGEFILE"}, {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
        {O_NOATIME, "O_NOATIME"},   {O_CLOEXEC, "O_CLOEXEC"},   {O_PATH, "O_PATH"},
        {O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE"},
    };
    for (auto [bit, name] : names)
        if ((flags & bit) == bit && !(bit == O_DSYNC && (flags & (O_SYNC & ~O_DSYNC)))) out += std::string("|") + name;
    if (flags & (O_SYNC & ~O_DSYNC)) out += "|O_SYNC";
    return out;
}

struct Printer {
    const CommonOptions& options;
    bool extended;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        std::string& b = out.buffer();
        append_time_uid_headers(b, options);
        b += "PID     COMM              FD ERR ";
        if (extended) b += "FLAGS    ";
        b += "PATH\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < offsetof(opensnoop_event, path)) return;
        const auto* e = static_cast<const opensnoop_event*>(data);
        std::string_view comm = fixed_string(e->comm);
        if (!comm_matches(comm, options.name)) return;
        size_t path_room = size - offsetof(opensnoop_event, path);
        std::string_view path(e->path, strnlen(e->path, std::min<size_t>(path_room, sizeof e->path)));
        int fd = e->ret >= 0 ? e->ret : -1;
        // An error is -errno, -4095..-1 (MAX_ERRNO); never negate anything below.
        int err = e->ret >= 0 || e->ret < -4095 ? 0 : -e->ret;
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e->ts_ns);
            JsonObject j(b);
            j.string("time", when).unsigned_number("pid", e->pid).unsigned_number("tid", e->tid)
                .unsigned_number("uid", e->uid).string("comm", comm).number("fd", fd)
                .number("errno", err).string("syscall", syscall_names[e->syscall & 3])
                .unsigned_number("flags", e->flags).string("flag_names", open_flag_names(e->flags));
            if (e->flags & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY))) j.unsigned_number("mode", e->mode);
            j.string("path", path).end_line();
        } else {
            append_time_uid_columns(b, options, clock, e->ts_ns, e->uid);
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            append_escaped_padded(b, comm, 16);
            append_number(b, fd, 4);
            append_number(b, err, 4);
            b += ' ';
            if (extended) {
                char flags[16];
                snprintf(flags, sizeof flags, "%08llo ", static_cast<unsigned long long>(e->flags));
                b += flags;
            }
            append_text_escaped(b, path);
            b += '\n';
        }
        out.end_record();
    }
};

std::vector<AttachStep> attach_steps() {
    auto syscall_point = [](const char* program, const char* target) {
        return AttachPoint{program, AttachKind::tracepoint, target, true};
    };
    return {{"open system calls",
             {{{syscall_point("tp_enter_open", "syscalls:sys_enter_open"),
                syscall_point("tp_exit_open", "syscalls:sys_exit_open"),
                {"tp_enter_openat", AttachKind::tracepoint, "syscalls:sys_enter_openat"},
                {"tp_exit_openat", AttachKind::tracepoint, "syscalls:sys_exit_openat"},
                syscall_point("tp_enter_openat2", "syscalls:sys_enter_openat2"),
                syscall_point("tp_exit_openat2", "syscalls:sys_exit_openat2"),
                syscall_point("tp_enter_creat", "syscalls:sys_enter_creat"),
                syscall_point("tp_exit_creat", "syscalls:sys_exit_creat")}},
              {{{"raw_enter", AttachKind::raw_tp, "sys_enter"},
                {"raw_exit", AttachKind::raw_tp, "sys_exit"}}}}}};
}

} // namespace

// For tests/fuzz (common/decoder.h): one event through the printer; variant bit 0: -e.
void decode_opensnoop(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                      const void* data, size_t size) {
    Printer printer{options, (variant & 1) != 0, out, {}};
    printer.event(data, size);
}

int opensnoop(int argc, char** argv) {
    CommonOptions options;
    bool extended = false;
    CommandLine cli("opensnoop", "Trace open(), openat(), openat2() and creat() system calls.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.add_switch('e', "extended", "show the open flags (octal), and their names in JSON", &extended);
    cli.set_examples("  opensnoop                 trace all opens\n"
                     "  opensnoop -x              only failed opens\n"
                     "  opensnoop -p 181 -T       PID 181 only, with times\n"
                     "  opensnoop -n nginx -e     commands containing 'nginx', with flags\n"
                     "  opensnoop -o json -d 10   ten seconds of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<opensnoop_bpf>(
        {.name = "opensnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure = [&](opensnoop_bpf& skel,
                          const AttachPlan&) { skel.rodata->failed_only = options.failed; },
         .announcement = "Tracing open system calls... Hit Ctrl-C to end."},
        [&](Output& out) {
            return Printer{options, extended, out, {}};
        });
}

} // namespace corescope::tools
