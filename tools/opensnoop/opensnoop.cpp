// opensnoop: trace open(), openat(), openat2() and creat() system-wide.
#include "decoder.h"
#include "event_fields.h"
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
    bool extended; // -e

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("fd", "FD", 3, Align::right),
                 column("errno", "ERR", 3, Align::right), json_field("syscall"),
                 json_field("flags"), json_field("flag_names"),
                 shown_if(extended, text_column("FLAGS", 8)), json_field("mode"),
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
            .lazy([&] {
                char octal[24];
                snprintf(octal, sizeof octal, "%08llo", static_cast<unsigned long long>(e->flags));
                return std::string(octal);
            });
        if (creates)
            r.number(e->mode);
        else
            r.absent();
        r.text(tail_string(data, size, e->path)).end();
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

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -e.
void decode_opensnoop(const CommonOptions& options, uint32_t variant, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & 1) != 0}, options, out, events);
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
        Printer{extended});
}

} // namespace corescope::tools
