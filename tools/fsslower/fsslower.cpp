// fsslower: file reads, writes, opens and fsyncs slower than a threshold, on
// one kind of file system. Run as ext4slower, xfsslower, btrfsslower or
// nfsslower (symlinks), it takes the file-system type from its name.
#include "clock.h"
#include "decoder.h"
#include "filters.h"
#include "run.h"
#include "text_file.h"
#include "version.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "fsslower.skel.h"
#include "fsslower/fsslower.h"

#include <cmath>
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
    const CommonOptions& options;
    Output& out;
    EventClock clock;

    void header() {
        if (options.format == OutputFormat::json) return;
        out.buffer() += "TIME     COMM             PID     T BYTES   OFF_KB   LAT(ms) FILENAME\n";
        out.flush();
    }

    void event(const void* data, size_t size) {
        if (size < offsetof(fsslower_event, name)) return;
        const auto* e = static_cast<const fsslower_event*>(data);
        std::string_view comm = fixed_string(e->comm);
        if (!comm_matches(comm, options.name)) return;
        size_t name_room = size - offsetof(fsslower_event, name);
        std::string_view name(e->name, strnlen(e->name, std::min(name_room, sizeof e->name)));
        char op = op_letters[e->op & 3];
        bool moves_bytes = e->op == FSSLOWER_OP_READ || e->op == FSSLOWER_OP_WRITE;
        // An error is -errno, -4095..-1 (MAX_ERRNO); never negate anything below.
        int64_t err = e->ret < 0 && e->ret >= -4095 ? -e->ret : 0;
        double lat_ms = static_cast<double>(e->lat_ns) / 1e6;
        std::string& b = out.buffer();
        if (options.format == OutputFormat::json) {
            std::string when;
            clock.append_iso(when, e->ts_ns);
            JsonObject j(b);
            j.string("time", when)
                .unsigned_number("pid", e->pid)
                .unsigned_number("tid", e->tid)
                .string("comm", comm)
                .string("op", std::string_view(&op, 1))
                .string("syscall",
                        e->syscall < FSSLOWER_SYSCALL_COUNT ? syscall_names[e->syscall] : "?");
            if (moves_bytes) {
                j.number("bytes", e->ret > 0 ? e->ret : 0).number("offset", e->offset);
            } else {
                j.null("bytes").null("offset");
            }
            j.real("latency_ms", lat_ms, 3)
                .number("errno", err)
                .string("fs_type", fixed_string(e->fs_type))
                .string("file", name)
                .end_line();
        } else {
            clock.append_hms(b, e->ts_ns);
            b += ' ';
            append_escaped_padded(b, comm, 16);
            b += ' ';
            append_padded(b, std::to_string(e->pid), 7);
            b += ' ';
            b += op;
            b += ' ';
            // A failed call shows -errno as its byte count.
            int64_t bytes = moves_bytes || e->ret < 0 ? e->ret : 0;
            append_padded(b, std::to_string(bytes), 7);
            b += ' ';
            append_padded(b, std::to_string(moves_bytes && e->offset > 0 ? e->offset / 1024 : 0),
                          8);
            char lat[32];
            snprintf(lat, sizeof lat, " %7.2f ", lat_ms);
            b += lat;
            append_text_escaped(b, name);
            b += '\n';
        }
        out.end_record();
    }
};

std::vector<AttachStep> attach_steps() {
    std::vector<AttachPoint> tracepoints;
    auto add = [&](const char* call, bool optional) {
        tracepoints.push_back({std::string("tp_enter_") + call, AttachKind::tracepoint,
                               std::string("syscalls:sys_enter_") + call, optional});
        tracepoints.push_back({std::string("tp_exit_") + call, AttachKind::tracepoint,
                               std::string("syscalls:sys_exit_") + call, optional});
    };
    for (const char* call : {"read", "write", "pread64", "pwrite64", "readv", "writev", "openat",
                             "fsync", "fdatasync"})
        add(call, false);
    // Absent on some architectures (open, creat) or older kernels (openat2).
    for (const char* call :
         {"preadv", "pwritev", "preadv2", "pwritev2", "open", "creat", "openat2"})
        add(call, true);
    return {{"file system calls",
             {{tracepoints},
              {{{"raw_enter", AttachKind::raw_tp, "sys_enter"},
                {"raw_exit", AttachKind::raw_tp, "sys_exit"}}}}}};
}

} // namespace

// One event's bytes through the printer, for tests/fuzz (common/decoder.h).
void decode_fsslower(const CommonOptions& options, [[maybe_unused]] uint32_t variant, Output& out,
                     const void* data, size_t size) {
    Printer printer{options, out, {}};
    printer.event(data, size);
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
                 skel.rodata->min_lat_ns = static_cast<__u64>(std::llround(settings.min_ms * 1e6));
                 skel.rodata->type_count = static_cast<__u32>(settings.types.size());
                 for (size_t i = 0; i < settings.types.size(); i++) {
                     auto* slot = const_cast<char*>(skel.rodata->types[i]);
                     std::memcpy(slot, settings.types[i].c_str(), settings.types[i].size() + 1);
                 }
             },
         .announcement = "Tracing " + what + " operations slower than " + min_text +
                         " ms... Hit Ctrl-C to end."},
        [&](Output& out) {
            return Printer{options, out, {}};
        });
}

} // namespace corescope::tools
