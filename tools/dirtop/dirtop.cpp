// dirtop: reads and writes of the files under each watched directory, every
// interval: calls and bytes, refreshed like top on a terminal, as lines in a
// pipe, one JSON record per interval with -o json.
#include "block_devices.h"
#include "decoder.h"
#include "file_rw.h"
#include "map_reader.h"
#include "run.h"
#include "text_file.h"
#include "top_table.h"

#include <linux/types.h>
#include "dirtop/dirtop.h"
#include "dirtop.skel.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Settings {
    std::vector<std::string> given; // --dir, as typed
    std::vector<std::string> paths; // their absolute paths, in order
    std::vector<dirtop_dir> dirs;   // their inodes, in order
    TopOptions top;
    FileRwSort sort = FileRwSort::all;
};

using Entry = MapEntry<dirtop_key, dirtop_value>;

class Printer {
  public:
    // settings.paths: the watched directories by index.
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool clear,
            LoadAverage load)
        : paths_(settings.paths), sort_(settings.sort),
          table_(options, out, settings.top, clear, row_layout(),
                 {json_field("reads"), json_field("writes"), json_field("read_bytes"),
                  json_field("write_bytes"), json_field("dirs")},
                 std::move(load)) {}

    void print(std::vector<Entry> entries) {
        uint64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0;
        for (const Entry& e : entries) {
            reads += e.value.reads;
            writes += e.value.writes;
            read_bytes += e.value.read_bytes;
            write_bytes += e.value.write_bytes;
        }
        size_t dirs = table_.rank(entries, [&](const Entry& a, const Entry& b) {
            auto wa = file_rw_weight(sort_, a.value), wb = file_rw_weight(sort_, b.value);
            if (wa != wb) return wa > wb;
            return a.key.dir < b.key.dir;
        });
        table_.begin();
        for (const Entry& e : entries) {
            const dirtop_value& v = e.value;
            std::string path =
                e.key.dir < paths_.size() ? paths_[e.key.dir] : "?" + std::to_string(e.key.dir);
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
            t.number(reads).number(writes).number(read_bytes).number(write_bytes).number(dirs);
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

    std::vector<std::string> paths_;
    FileRwSort sort_;
    TopTable table_;
};

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
        settings.top.rows = 2;
        settings.sort = FileRwSort::reads;
    }
    if (variant & 2) settings.sort = FileRwSort::wbytes;
    Printer(options, settings, out, (variant & 4) != 0, fixed_load_average)
        .print(recorded_entries<dirtop_key, dirtop_value>(events));
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
    add_top_flags(cli, settings.top, "maxrows", "directories");
    cli.add_option('s', "sort", "KEY",
                   "sort by all (bytes, then calls; default), reads, writes, rbytes or wbytes",
                   [&](std::string_view v) { settings.sort = parse_file_rw_sort(v); });
    cli.set_examples("  dirtop                          the current directory, every second\n"
                     "  dirtop --dir /srv/a,/srv/b -C   two directories, screen not cleared\n"
                     "  dirtop --dir /var/log -p 181    process 181's I/O under /var/log\n"
                     "  dirtop --dir /data -o json 10   JSON Lines, a record every 10 seconds");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;
    resolve_dirs(settings);
    bool clear = top_clears_screen(options, settings.top);

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
