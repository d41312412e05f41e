// fsslower: file reads, writes, opens and fsyncs slower than a threshold, on
// one kind of file system. Run as ext4slower, xfsslower, btrfsslower or
// nfsslower (symlinks), it takes the file-system type from its name.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"
#include "text_file.h"
#include "version.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "fsslower.skel.h"
#include "fsslower/fsslower.h"

#include <cstddef>
#include <cstring>
#include <unistd.h>

namespace corescope::tools {

namespace {

const char* const syscall_names[FSSLOWER_SYSCALL_COUNT] = {
    "read",    "write",    "pread64", "pwrite64", "readv",   "writev", "preadv", "pwritev",
    "preadv2", "pwritev2", "open",    "openat",   "openat2", "creat",  "fsync",  "fdatasync",
};
const char op_letters[] = {'R', 'W', 'O', 'S'};

struct Settings {
    std::string invoked_as;         // basename of argv[0]
    std::vector<std::string> types; // empty: any file system
    double min_ms = 10;
};

// ext4slower (or bpf-ext4slower under -Dtool_prefix=bpf-) -> "ext4";
// fsslower (or anything not NAMEslower) -> "".
std::string type_from_name(std::string invoked_as) {
    std::string_view prefix = corescope_tool_prefix;
    if (!prefix.empty() && invoked_as.compare(0, prefix.size(), prefix) == 0)
        invoked_as.erase(0, prefix.size());
    const std::string suffix = "slower";
    if (invoked_as.size() <= suffix.size() || invoked_as == "fsslower" ||
        invoked_as.compare(invoked_as.size() - suffix.size(), suffix.size(), suffix) != 0)
        return {};
    return invoked_as.substr(0, invoked_as.size() - suffix.size());
}

// --type ext4[,xfs...]. "nfs" also means NFSv4 mounts, whose type is "nfs4".
std::vector<std::string> parse_types(std::string_view text) {
    std::vector<std::string> types;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        std::string type(text.substr(start, comma - start));
        bool valid = !type.empty() && type.size() < FSSLOWER_TYPE_LEN;
        for (char c : type)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
                valid = false;
        if (!valid)
            throw UsageError("invalid file-system type '" + std::string(text) +
                             "': a comma-separated list of names like ext4, xfs, btrfs, nfs");
        types.push_back(type);
        if (type == "nfs") types.push_back("nfs4");
        start = comma + 1;
    }
    if (types.size() > FSSLOWER_MAX_TYPES)
        throw UsageError("invalid file-system type '" + std::string(text) + "': at most " +
                         std::to_string(FSSLOWER_MAX_TYPES) + " types");
    return types;
}

// Says on stderr when a wanted type is not registered (a typo, or a module
// not loaded yet): the tool would trace nothing.
void warn_unknown_types(const std::string& tool, const std::vector<std::string>& types) {
    std::optional<std::string> filesystems = read_text_file("/proc/filesystems");
    if (!filesystems) return;
    std::vector<std::string> known;
    for (std::string_view line : split_lines(*filesystems))
        known.emplace_back(line.substr(line.find('\t') + 1));
    bool any = false;
    for (const std::string& t : types)
        if (std::find(known.begin(), known.end(), t) != known.end()) any = true;
    if (!any) {
        std::string list;
        for (const std::string& t : types)
            list += (list.empty() ? "" : ",") + t;
        std::fprintf(stderr,
                     "%s: warning: no file system of type %s is registered (/proc/filesystems); "
                     "nothing will show until one is mounted\n",
                     tool.c_str(), list.c_str());
    }
}

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
        bool moves_bytes = e->op == FSSLOWER_OP_READ || e->op == FSSLOWER_OP_WRITE;
        r.text(std::string_view(&op_letters[e->op & 3], 1))
            .text(e->syscall < FSSLOWER_SYSCALL_COUNT ? syscall_names[e->syscall] : "?");
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

std::vector<AttachStep> attach_steps() {
    std::vector<SyscallProgram> calls;
    for (const char* call : {"read", "write", "pread64", "pwrite64", "readv", "writev", "openat",
                             "fsync", "fdatasync"})
        calls.push_back({call});
    // Absent on some architectures (open, creat) or older kernels (openat2).
    for (const char* call :
         {"preadv", "pwritev", "preadv2", "pwritev2", "open", "creat", "openat2"})
        calls.push_back({call, true, true, true});
    return {syscall_tiers("file system calls", calls)};
}

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
    std::string default_type = type_from_name(settings.invoked_as);
    if (!default_type.empty()) settings.types = parse_types(default_type);
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
                   [&](std::string_view v) { settings.types = parse_types(v); });
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
                 if (!settings.types.empty()) warn_unknown_types(tool, settings.types);
                 return attach_steps();
             },
         .configure =
             [&](fsslower_bpf& skel, const AttachPlan&) {
                 skel.rodata->self_tgid = static_cast<__u32>(getpid());
                 skel.rodata->min_lat_ns = milliseconds_to_ns(settings.min_ms);
                 skel.rodata->type_count = static_cast<__u32>(settings.types.size());
                 for (size_t i = 0; i < settings.types.size(); i++) {
                     auto* slot = const_cast<char*>(skel.rodata->types[i]);
                     std::memcpy(slot, settings.types[i].c_str(), settings.types[i].size() + 1);
                 }
             },
         .announcement = "Tracing " + what + " operations slower than " + min_text +
                         " ms... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
