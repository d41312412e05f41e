// bashreadline: every command line typed into bash, through a uretprobe on
// readline() in the bash program (or libreadline, for a bash linked to it).
#include "decoder.h"
#include "errors.h"
#include "event_fields.h"
#include "run.h"
#include "user_files.h"

#include <linux/types.h>
#include "bashreadline.skel.h"
#include "bashreadline/bashreadline.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <sys/stat.h>

namespace corescope::tools {

namespace {

struct Printer {
    RecordLayout layout() const {
        return {task_time | task_pid | task_tid | task_uid | task_comm,
                {time_column("TIME", 8), pid_column("PID", 7), json_field("truncated"),
                 column("command", "COMMAND", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e =
            event_in<bashreadline_event>(data, size, offsetof(bashreadline_event, line));
        if (!e) return;
        std::string_view line = tail_string(data, size, e->line);
        if (Record r = records.begin(task_of(*e)))
            r.boolean(line.size() >= BASHREADLINE_LINE_MAX - 1).text(line).end();
    }
};

// The files readline is in: libreadline where a process maps it (a bash
// linked to it), else the bash program; the system's bash without -p.
const UserFile libreadline{
    "libreadline",
    [](std::string_view name) { return is_shared_library(name, "libreadline"); },
    {},
    "--shared PATH"};
const UserFile bash{"bash",
                    [](std::string_view name) { return name == "bash"; },
                    {"/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"},
                    "--shared PATH"};

std::vector<std::string> readline_files(const std::string& shared,
                                        const std::vector<uint32_t>& pids) {
    if (!shared.empty() || pids.empty()) return user_file_paths(bash, shared, {});
    std::vector<std::string> files;
    for (uint32_t pid : pids) {
        std::vector<std::string> found;
        try {
            found = user_file_paths(libreadline, {}, {pid});
        } catch (const RuntimeError&) {
            found = user_file_paths(bash, {}, {pid});
        }
        for (const std::string& f : found)
            if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
    }
    return files;
}

std::vector<AttachStep> attach_steps(const std::string& shared, const std::vector<uint32_t>& pids) {
    AttachWay uprobes;
    for (const std::string& file : readline_files(shared, pids)) {
        std::optional<uint64_t> offset = function_offset(file, "readline");
        if (!offset)
            throw RuntimeError(file + " defines no readline function (a bash without its own "
                                      "readline, or stripped of its symbols): name the "
                                      "libreadline it uses with --shared PATH");
        char target[32];
        std::snprintf(target, sizeof target, ":0x%llx", static_cast<unsigned long long>(*offset));
        uprobes.points.push_back({"readline_return", AttachKind::uretprobe, file + target});
    }
    return {{"lines read by readline", {uprobes}}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_bashreadline(const CommonOptions& options, uint32_t, Output& out,
                         std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int bashreadline(int argc, char** argv) {
    CommonOptions options;
    std::string shared;
    CommandLine cli("bashreadline", "Print the command lines typed into bash (readline()).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::print_uid,
                     Flag::duration});
    cli.add_option('s', "shared", "PATH",
                   "probe readline in this file: the libreadline.so a bash is linked to "
                   "(default: the bash program, or the one -p's processes use)",
                   [&shared](std::string_view v) {
                       std::string path(v);
                       struct stat st {};
                       if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                           throw UsageError("invalid --shared '" + path + "': no such file");
                       shared = path;
                   });
    cli.set_examples("  bashreadline                  lines typed into every bash\n"
                     "  bashreadline -p 181           into bash 181 (a container's too)\n"
                     "  bashreadline -s /lib/x86_64-linux-gnu/libreadline.so.8\n"
                     "  bashreadline -o json          JSON Lines, the lines exact\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<bashreadline_bpf>(
        {.name = "bashreadline",
         .options = options,
         .attach_steps = [&] { return attach_steps(shared, options.pids); },
         .announcement = "Tracing bash commands... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
