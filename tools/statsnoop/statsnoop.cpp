// statsnoop: trace the stat and access families of system calls, with the
// path each looked at and the result.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "statsnoop/statsnoop.h"
#include "statsnoop.skel.h"

#include <algorithm>
#include <cstddef>

namespace corescope::tools {

namespace {

const char* const call_names[STATSNOOP_CALLS] = {"stat",      "lstat",     "fstat",   "newfstatat",
                                                 "statx",     "statfs",    "fstatfs", "access",
                                                 "faccessat", "faccessat2"};

// What each call's arguments are, for the JSON fields that apply to it.
bool takes_fd(uint32_t call) {
    return call == STATSNOOP_FSTAT || call == STATSNOOP_FSTATFS;
}
bool takes_dirfd(uint32_t call) {
    return call == STATSNOOP_NEWFSTATAT || call == STATSNOOP_STATX || call == STATSNOOP_FACCESSAT ||
           call == STATSNOOP_FACCESSAT2;
}
bool takes_flags(uint32_t call) {
    return call == STATSNOOP_LSTAT || call == STATSNOOP_NEWFSTATAT || call == STATSNOOP_STATX ||
           call == STATSNOOP_FACCESSAT2;
}
bool takes_mode(uint32_t call) {
    return call == STATSNOOP_ACCESS || call == STATSNOOP_FACCESSAT || call == STATSNOOP_FACCESSAT2;
}

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("ret", "RET", 3, Align::right),
                 column("errno", "ERR", 3, Align::right), column("call", "CALL", 10),
                 json_field("latency_ms"), json_field("fd"), json_field("dirfd"),
                 json_field("flags"), json_field("mask"), json_field("mode"),
                 column("path", "PATH", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<statsnoop_event>(data, size, offsetof(statsnoop_event, path));
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        uint32_t call = e->call % STATSNOOP_CALLS;
        r.number(e->ret >= 0 ? e->ret : -1)
            .number(errno_of_return(e->ret))
            .text(call_names[call])
            .real(static_cast<double>(e->lat_ns) / 1e6)
            .number_if(takes_fd(call), e->fd)
            .number_if(takes_dirfd(call), e->fd)
            .number_if(takes_flags(call), e->flags)
            .number_if(call == STATSNOOP_STATX, e->mask)
            .number_if(takes_mode(call), e->mask);
        std::string_view block(
            e->path, std::min<size_t>(e->path_len, size - offsetof(statsnoop_event, path)));
        if (e->path_kind == STATSNOOP_PATH_ARGUMENT)
            r.text(block.substr(0, block.find('\0')));
        else if (e->path_kind == STATSNOOP_PATH_COMPONENTS && !block.empty())
            r.text(path_from_components(block, e->path_complete));
        else
            r.null();
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    // stat, lstat and access are x86_64's own; other architectures have only
    // the *at forms.
    return {syscall_tiers("stat and access system calls", {{"newstat", true, true, true},
                                                           {"newlstat", true, true, true},
                                                           {"newfstat"},
                                                           {"newfstatat"},
                                                           {"statx"},
                                                           {"statfs"},
                                                           {"fstatfs"},
                                                           {"access", true, true, true},
                                                           {"faccessat"},
                                                           {"faccessat2", true, true, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_statsnoop(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int statsnoop(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("statsnoop",
                    "Trace stat(), lstat(), fstat(), newfstatat(), statx(), statfs(), fstatfs() "
                    "and access(), faccessat(), faccessat2().",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.set_examples("  statsnoop                 every stat and access call\n"
                     "  statsnoop -x              only failed ones\n"
                     "  statsnoop -p 181 -T       process 181, with times\n"
                     "  statsnoop -o json -d 10   ten seconds of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<statsnoop_bpf>(
        {.name = "statsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing stat system calls... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
