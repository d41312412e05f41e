// filegone: files deleted or renamed away, with the names as given.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "filegone/filegone.h"
#include "filegone.skel.h"

#include <cstddef>
#include <string>

namespace corescope::tools {

namespace {

constexpr std::string_view call_names[FILEGONE_CALLS] = {"unlink", "unlinkat", "rmdir",
                                                         "rename", "renameat", "renameat2"};

bool is_rename(uint32_t call) {
    return call == FILEGONE_RENAME || call == FILEGONE_RENAMEAT || call == FILEGONE_RENAMEAT2;
}
bool takes_dirfd(uint32_t call) {
    return call == FILEGONE_UNLINKAT || call == FILEGONE_RENAMEAT || call == FILEGONE_RENAMEAT2;
}

struct Printer {
    bool failed; // -x: the ERR column

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), shown_if(failed, text_column("ERR", 3, Align::right)),
                 json_field("errno"), column("action", "ACTION", 6), json_field("call"),
                 json_field("dirfd"), json_field("new_dirfd"), json_field("flags"),
                 json_field("file"), json_field("new_file"), text_column("FILE", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<filegone_event>(data, size, offsetof(filegone_event, new_name));
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        uint32_t call = e->call % FILEGONE_CALLS;
        bool rename = is_rename(call);
        std::string_view name(e->name,
                              strnlen(e->name, std::min<size_t>(e->name_len, sizeof(e->name))));
        std::string_view new_name = tail_string(data, size, e->new_name);
        if (e->new_len == 0) new_name = {};
        r.number(errno_of_return(e->ret))
            .number(errno_of_return(e->ret))
            .text(rename ? "RENAME" : "DELETE")
            .text(call_names[call])
            .number_if(takes_dirfd(call), e->dirfd)
            .number_if(call == FILEGONE_RENAMEAT || call == FILEGONE_RENAMEAT2, e->newdirfd)
            .number_if(call == FILEGONE_UNLINKAT || call == FILEGONE_RENAMEAT2, e->flags);
        if (e->name_len)
            r.text(name);
        else
            r.null();
        if (rename && e->new_len)
            r.text(new_name);
        else
            r.null();
        if (rename)
            r.lazy([&] { return std::string(name) + " > " + std::string(new_name); });
        else
            r.text(name);
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    // unlink, rmdir and rename are x86_64's own; other architectures have
    // only the *at forms.
    return {
        syscall_tiers("unlink, rmdir and rename system calls", {{"unlink", true, true, true},
                                                                {"unlinkat"},
                                                                {"rmdir", true, true, true},
                                                                {"rename", true, true, true},
                                                                {"renameat", true, true, true},
                                                                {"renameat2", true, true, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: -x.
void decode_filegone(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & 1) != 0}, options, out, events);
}

int filegone(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("filegone",
                    "Trace files deleted or renamed away: unlink(), unlinkat(), rmdir(), "
                    "rename(), renameat(), renameat2().",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.set_examples("  filegone                  every file deleted or renamed\n"
                     "  filegone -x               only failed attempts, with their errno\n"
                     "  filegone -p 181 -T        process 181, with times\n"
                     "  filegone -o json -d 10    ten seconds of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<filegone_bpf>(
        {.name = "filegone",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing deleted and renamed files... Hit Ctrl-C to end."},
        Printer{options.failed});
}

} // namespace corescope::tools
