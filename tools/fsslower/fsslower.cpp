// fsslower: file reads, writes, opens and fsyncs slower than a threshold, on
// one kind of file system. Run as ext4slower, xfsslower, btrfsslower or
// nfsslower (symlinks), it takes the file-system type from its name.
#include "decoder.h"
#include "event_fields.h"
#include "fs_types.h"
#include "run.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "fsslower.skel.h"
#include "fsslower/fsslower.h"

#include <cstddef>
#include <cstring>
#include <unistd.h>

namespace corescope::tools {

namespace {

const char op_letters[] = {'R', 'W', 'O', 'S'};

struct Settings {
    std::string invoked_as;         // basename of argv[0]
    std::vector<std::string> types; // empty: any file system
    double min_ms = 10;
};

struct Printer {
    RecordLayout layout() const {
        return {task_time | task_pid | task_tid | task_comm,
                {time_column(), comm_column(), pid_column(), column("op", "T", 1),
                 json_field("syscall"), json_field("bytes"), json_field("offset"),
                 text_column("BYTES", 7), text_column("OFF_KB", 8),
                 with_text_decimals(2, column("latency_ms", "LAT(ms)", 7, Align::right)),
                 json_field("errno"), json_field("fs_type"), column("file", "FILENAME", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<fsslower_event>(data, size, offsetof(fsslower_event, name));
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        bool moves_bytes = e->op == FS_CALL_OP_READ || e->op == FS_CALL_OP_WRITE;
        r.text(std::string_view(&op_letters[e->op & 3], 1)).text(fs_call_syscall_name(e->syscall));
        if (moves_bytes)
            r.number(e->ret > 0 ? e->ret : 0).number(e->offset);
        else
            r.null().null();
        // A failed call shows -errno as its byte count.
        r.number(moves_bytes || e->ret < 0 ? e->ret : 0)
            .number(moves_bytes && e->offset > 0 ? e->offset / 1024 : 0)
            .real(static_cast<double>(e->lat_ns) / 1e6)
            .number(errno_of_return(e->ret))
            .text(fixed_string(e->fs_type))
            .text(tail_string(data, size, e->name))
            .end();
    }
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_fsslower(const CommonOptions& options, uint32_t, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int fsslower(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    std::string argv0 = argc > 0 ? argv[0] : "fsslower";
    settings.invoked_as = argv0.substr(argv0.rfind('/') + 1);
    std::string default_type = fs_type_from_name(settings.invoked_as, "slower", "fsslower");
    if (!default_type.empty()) settings.types = parse_fs_types(default_type);
    const std::string& tool = settings.invoked_as;

    CommandLine cli(tool,
                    "Trace reads, writes, opens and fsyncs slower than a threshold" +
                        (default_type.empty() ? std::string(" (any file system).")
                                              : " on " + default_type + " file systems."),
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::duration});
    // The minimum, as --min MS or as the classic tools' positional min_ms
    // (ext4slower 1): once.
    std::string min_given;
    auto set_min = [&](const std::string& how, std::string_view v) {
        if (!min_given.empty())
            throw UsageError("the minimum latency is given twice (" + min_given + " and " + how +
                             "): give --min MS or min_ms, once");
        min_given = how;
        settings.min_ms = parse_milliseconds("minimum latency", v);
    };
    cli.add_option(0, "min", "MS",
                   "only calls slower than this many milliseconds (default 10; 0: all)",
                   [&](std::string_view v) { set_min("--min", v); });
    cli.set_positional("min_ms", "the same as --min MS",
                       [&](std::string_view v) { set_min("min_ms", v); });
    cli.add_option(0, "type", "TYPE",
                   "file-system type(s), comma-separated: ext4, xfs, btrfs, nfs, ... (default: " +
                       (default_type.empty() ? std::string("any") : default_type) + ")",
                   [&](std::string_view v) { settings.types = parse_fs_types(v); });
    std::string examples;
    auto example = [&examples](const std::string& command, const char* what) {
        examples += "  " + command +
                    std::string(command.size() < 30 ? 30 - command.size() : 1, ' ') + what + "\n";
    };
    example(tool, "calls slower than 10 ms");
    example(tool + " 1", "slower than 1 ms");
    example(tool + " --min 1", "the same");
    example(tool + " --min 0 -p 181", "every call of PID 181");
    example("fsslower --type xfs,ext4", "both file systems");
    example(tool + " -o json -d 60", "one minute of JSON Lines");
    cli.set_examples(examples);
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    std::string what = settings.types.empty() ? std::string("file") : settings.types[0];
    char min_text[32];
    snprintf(min_text, sizeof min_text, "%g", settings.min_ms);
    return run_event_tool<fsslower_bpf>(
        {.name = tool,
         .options = options,
         .attach_steps =
             [&] {
                 if (!settings.types.empty()) warn_unregistered_fs_types(tool, settings.types);
                 return std::vector<AttachStep>{fs_calls_step()};
             },
         .configure =
             [&](fsslower_bpf& skel, const AttachPlan&) {
                 configure_fs_calls(skel.rodata, static_cast<uint32_t>(getpid()), settings.types);
                 skel.rodata->min_lat_ns = milliseconds_to_ns(settings.min_ms);
             },
         .announcement = "Tracing " + what + " operations slower than " + min_text +
                         " ms... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
