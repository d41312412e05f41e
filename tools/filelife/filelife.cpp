// filelife: files created and deleted while it traces, with their age.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "filelife/filelife.h"
#include "filelife.skel.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace corescope::tools {

namespace {

constexpr std::string_view call_names[FILELIFE_CALLS] = {"open",  "openat", "openat2",
                                                         "creat", "unlink", "unlinkat"};

// Files created and not yet deleted, by path, at most this many: a file
// created past it evicts an arbitrary older one (whose deletion then goes
// unreported).
constexpr size_t max_files = 65536;

struct Created {
    uint64_t ts_ns;
    uint64_t ino;
    uint32_t dev;
    uint32_t pid;
};

struct Printer {
    std::unordered_map<std::string, Created> files;

    RecordLayout layout() const {
        return {
            task_all,
            {pid_column(), comm_column(),
             with_decimals(6, with_text_decimals(2, column("age_s", "AGE(s)", 7, Align::right))),
             json_field("call"), json_field("ino"), json_field("dev"), json_field("created_by_pid"),
             column("file", "FILE", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) {
        const auto* e = event_in<filelife_event>(data, size, offsetof(filelife_event, path));
        if (!e) return;
        std::string_view components(
            e->path, std::min<size_t>(e->path_len, size - offsetof(filelife_event, path)));
        if (e->kind == FILELIFE_CREATE) {
            if (components.empty()) return;
            if (files.size() >= max_files) files.erase(files.begin());
            files[path_from_components(components, e->path_complete)] = {e->ts_ns, e->ino, e->dev,
                                                                         e->pid};
            return;
        }
        if (e->kind != FILELIFE_DELETE) return;
        size_t name_room = size > offsetof(filelife_event, name)
                               ? std::min(size - offsetof(filelife_event, name), sizeof(e->name))
                               : 0;
        std::string_view name(e->name, strnlen(e->name, std::min<size_t>(e->name_len, name_room)));
        std::string base = components.empty() ? std::string("/")
                                              : path_from_components(components, e->path_complete);
        auto it = files.find(join_path_lexically(base, name));
        if (it == files.end()) return;
        Created created = it->second;
        std::string path = it->first;
        files.erase(it);
        Record r = records.begin(task_of(*e));
        if (!r) return;
        uint64_t age_ns = e->ts_ns > created.ts_ns ? e->ts_ns - created.ts_ns : 0;
        r.real(static_cast<double>(age_ns) / 1e9)
            .text(call_names[e->call % FILELIFE_CALLS])
            .number(created.ino)
            .number(created.dev)
            .number(created.pid)
            .text(path)
            .end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("open and unlink system calls", {{"open", true, true, true},
                                                           {"openat"},
                                                           {"openat2", true, true, true},
                                                           {"creat", true, true, true},
                                                           {"unlink", true, true, true},
                                                           {"unlinkat"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_filelife(const CommonOptions& options, uint32_t, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int filelife(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("filelife",
                    "Trace files created and deleted while tracing, with their age "
                    "(create by open(), openat(), openat2(), creat(); delete by unlink(), "
                    "unlinkat()).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.set_examples("  filelife                  every short-lived file\n"
                     "  filelife -p 181 -T        process 181, with times\n"
                     "  filelife -o json -d 10    ten seconds of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<filelife_bpf>(
        {.name = "filelife",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing the life of files... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
