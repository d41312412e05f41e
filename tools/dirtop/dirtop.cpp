// dirtop: reads and writes of the files under each watched directory, every
// interval: calls and bytes, refreshed like top on a terminal, as lines in a
// pipe, one JSON record per interval with -o json.
#include "block_devices.h"
#include "decoder.h"
#include "file_rw.h"
#include "map_reader.h"
#include "run.h"
#include "table_printer.h"
#include "text_file.h"

#include <linux/types.h>
#include "dirtop/dirtop.h"
#include "dirtop.skel.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

enum class SortKey { all, reads, writes, rbytes, wbytes };

struct Settings {
    std::vector<std::string> given; // --dir, as typed
    std::vector<std::string> paths; // their absolute paths, in order
    std::vector<dirtop_dir> dirs;   // their inodes, in order
    bool no_clear = false;          // -C
    uint64_t rows = 20;             // -r; 0: all
    SortKey sort = SortKey::all;
};

using Entry = MapEntry<dirtop_key, dirtop_value>;

class Printer {
  public:
    // paths: the watched directories by index; load gives the summary
    // line's figures (the decoder's are fixed); clear: a terminal that is
    // redrawn like top.
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool clear,
            std::function<std::string()> load)
        : settings_(settings), clear_(clear), load_(std::move(load)),
          table_(options, out, row_layout(), table_layout()), last_(monotonic_seconds()) {}

    void print(std::vector<Entry> entries) {
        double now = monotonic_seconds();
        double interval = now - last_;
        last_ = now;
        uint64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0;
        for (const Entry& e : entries) {
            reads += e.value.reads;
            writes += e.value.writes;
            read_bytes += e.value.read_bytes;
            write_bytes += e.value.write_bytes;
        }
        auto weight = [&](const Entry& e) -> std::pair<uint64_t, uint64_t> {
            const dirtop_value& v = e.value;
            switch (settings_.sort) {
            case SortKey::reads:
                return {v.reads, 0};
            case SortKey::writes:
                return {v.writes, 0};
            case SortKey::rbytes:
                return {v.read_bytes, 0};
            case SortKey::wbytes:
                return {v.write_bytes, 0};
            case SortKey::all:
                break;
            }
            return {v.read_bytes + v.write_bytes, v.reads + v.writes};
        };
        std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
            auto wa = weight(a), wb = weight(b);
            if (wa != wb) return wa > wb;
            return a.key.dir < b.key.dir;
        });
        size_t dirs = entries.size();
        if (settings_.rows && entries.size() > settings_.rows) entries.resize(settings_.rows);
        std::string load = load_();
        std::string preamble;
        if (!table_.json()) {
            if (clear_) preamble = "\033[H\033[2J";
            append_wall_time(preamble);
            preamble += " loadavg: " + load + "\n";
        }
        table_.begin(preamble);
        for (const Entry& e : entries) {
            const dirtop_value& v = e.value;
            std::string path = e.key.dir < settings_.paths.size() ? settings_.paths[e.key.dir]
                                                                  : "?" + std::to_string(e.key.dir);
            table_.row()
                .number(v.reads)
                .number(v.writes)
                .number(v.read_bytes)
                .number(v.read_bytes / 1024)
                .number(v.write_bytes)
                .number(v.write_bytes / 1024)
                .text(path)
                .end();
        }
        table_.end([&](Record& t) {
            t.text(iso_time_now())
                .real(interval)
                .text(load)
                .number(reads)
                .number(writes)
                .number(read_bytes)
                .number(write_bytes)
                .number(dirs);
        });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {column("reads", "READS", 6, Align::right),
                 column("writes", "WRITES", 6, Align::right), json_field("read_bytes"),
                 text_column("R_Kb", 7, Align::right), json_field("write_bytes"),
                 text_column("W_Kb", 7, Align::right), column("path", "PATH", 0)}};
    }
    static RecordLayout table_layout() {
        return {0,
                {json_field("time"), json_field("interval_s"), json_field("loadavg"),
                 json_field("reads"), json_field("writes"), json_field("read_bytes"),
                 json_field("write_bytes"), json_field("dirs")}};
    }

    Settings settings_;
    bool clear_;
    std::function<std::string()> load_;
    TablePrinter table_;
    double last_;
};

SortKey parse_sort(std::string_view v) {
    if (v == "all") return SortKey::all;
    if (v == "reads") return SortKey::reads;
    if (v == "writes") return SortKey::writes;
    if (v == "rbytes") return SortKey::rbytes;
    if (v == "wbytes") return SortKey::wbytes;
    throw UsageError("invalid sort key '" + std::string(v) +
                     "' (all, reads, writes, rbytes or wbytes)");
}

// Each --dir: a directory that exists, by its absolute path and inode.
void resolve_dirs(Settings& settings) {
    if (settings.given.empty()) settings.given.push_back(".");
    for (const std::string& dir : settings.given) {
        struct stat st {};
        if (stat(dir.c_str(), &st) != 0)
            throw UsageError("invalid directory '" + dir + "': " + std::strerror(errno));
        if (!S_ISDIR(st.st_mode))
            throw UsageError("invalid directory '" + dir + "': not a directory");
        char real[PATH_MAX];
        std::string path = realpath(dir.c_str(), real) ? std::string(real) : dir;
        dirtop_dir d{};
        d.ino = st.st_ino;
        d.dev = kernel_dev(major(st.st_dev), minor(st.st_dev));
        bool duplicate = false;
        for (const dirtop_dir& seen : settings.dirs)
            duplicate = duplicate || (seen.ino == d.ino && seen.dev == d.dev);
        if (duplicate) continue;
        if (settings.dirs.size() >= DIRTOP_MAX_DIRS)
            throw UsageError("invalid directory '" + dir + "': at most " +
                             std::to_string(DIRTOP_MAX_DIRS) + " directories");
        settings.dirs.push_back(d);
        settings.paths.push_back(path);
    }
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval's map, the directories named /golden/0, /golden/1 ... by index.
// Variant bit 0: -r 2 -s reads; bit 1: -s wbytes; bit 2: the screen
// cleared as on a terminal. The load average is a fixed string.
void decode_dirtop(const CommonOptions& options, uint32_t variant, Output& out,
                   std::span<const RecordedEvent> events) {
    Settings settings;
    for (int i = 0; i < 4; i++)
        settings.paths.push_back("/golden/" + std::to_string(i));
    if (variant & 1) {
        settings.rows = 2;
        settings.sort = SortKey::reads;
    }
    if (variant & 2) settings.sort = SortKey::wbytes;
    Printer(options, settings, out, (variant & 4) != 0, [] {
        return "0.50 0.25 0.10 2/300 4242";
    }).print(recorded_entries<dirtop_key, dirtop_value>(events));
}

int dirtop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("dirtop",
                    "Reads and writes (calls and bytes) of the files under each watched "
                    "directory, every interval (1 s unless given).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval});
    cli.add_option(0, "dir", "DIR[,DIR...]",
                   "the directories to watch (repeatable; default: the current directory); "
                   "bcc's dirtop -d",
                   [&](std::string_view v) {
                       size_t start = 0;
                       while (start <= v.size()) {
                           size_t comma = v.find(',', start);
                           if (comma == std::string_view::npos) comma = v.size();
                           std::string_view one = v.substr(start, comma - start);
                           if (one.empty())
                               throw UsageError("invalid directory list '" + std::string(v) +
                                                "': an empty name");
                           settings.given.emplace_back(one);
                           start = comma + 1;
                       }
                   });
    cli.add_switch('C', "noclear", "do not clear the screen between intervals", &settings.no_clear);
    cli.add_option(
        'r', "maxrows", "ROWS", "print at most ROWS directories (default 20; 0 for all)",
        [&](std::string_view v) { settings.rows = parse_unsigned("--maxrows", v, 0, 1000000); });
    cli.add_option('s', "sort", "KEY",
                   "sort by all (bytes, then calls; default), reads, writes, rbytes or wbytes",
                   [&](std::string_view v) { settings.sort = parse_sort(v); });
    cli.set_examples("  dirtop                          the current directory, every second\n"
                     "  dirtop --dir /srv/a,/srv/b -C   two directories, screen not cleared\n"
                     "  dirtop --dir /var/log -p 181    process 181's I/O under /var/log\n"
                     "  dirtop --dir /data -o json 10   JSON Lines, a record every 10 seconds");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;
    resolve_dirs(settings);
    bool clear = !settings.no_clear && options.format == OutputFormat::text && isatty(1);

    return run_summary_tool<dirtop_bpf>(
        {.name = "dirtop",
         .options = options,
         .attach_steps = [] { return std::vector<AttachStep>{file_rw_step()}; },
         .configure =
             [&](dirtop_bpf& skel, const AttachPlan&) {
                 skel.rodata->file_rw_self_tgid = static_cast<__u32>(getpid());
                 skel.rodata->dir_count = static_cast<__u32>(settings.dirs.size());
                 for (size_t i = 0; i < settings.dirs.size(); i++)
                     const_cast<dirtop_dir&>(skel.rodata->dirs[i]) = settings.dirs[i];
             },
         .announcement = interval_announcement(options, "Tracing reads and writes under " +
                                                            std::to_string(settings.dirs.size()) +
                                                            " directories")},
        [&](dirtop_bpf& skel, const AttachPlan&, Output& out) {
            return [&skel, printer = Printer(options, settings, out, clear,
                                             [] { return load_average(); })]() mutable {
                printer.print(take_map<dirtop_key, dirtop_value>(skel.maps.by_dir));
            };
        });
}

} // namespace corescope::tools
