// filetop: the files read and written most each interval, per process:
// calls and bytes, refreshed like top on a terminal, as lines in a pipe, one
// JSON record per interval with -o json.
#include "decoder.h"
#include "file_rw.h"
#include "map_reader.h"
#include "run.h"
#include "text_file.h"
#include "top_table.h"

#include <linux/types.h>
#include "filetop.skel.h"
#include "file_rw_by_file.h"

#include <sys/stat.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Settings {
    TopOptions top;
    bool all_files = false; // -a
    FileRwSort sort = FileRwSort::all;
};

using Entry = MapEntry<file_rw_key, file_rw_counts>;

std::string type_name(char type) {
    return type == 'R' || type == 'S' || type == 'O' ? std::string(1, type) : std::string("?");
}

// The file's name; one without (a pipe, an anonymous inode) by its inode,
// as /proc/PID/fd shows it.
std::string file_name(const file_rw_key& key, const file_rw_counts& value) {
    std::string name(fixed_string(value.name));
    if (!name.empty()) return name;
    const char* kind = S_ISFIFO(value.mode) ? "pipe" : S_ISSOCK(value.mode) ? "socket" : "anon";
    return std::string(kind) + ":[" + std::to_string(key.ino) + "]";
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out, bool clear,
            LoadAverage load)
        : sort_(settings.sort),
          table_(options, out, settings.top, clear, row_layout(),
                 {json_field("reads"), json_field("writes"), json_field("read_bytes"),
                  json_field("write_bytes"), json_field("files")},
                 std::move(load)) {}

    void print(std::vector<Entry> entries) {
        uint64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0;
        for (const Entry& e : entries) {
            reads += e.value.reads;
            writes += e.value.writes;
            read_bytes += e.value.read_bytes;
            write_bytes += e.value.write_bytes;
        }
        size_t files = table_.rank(entries, [&](const Entry& a, const Entry& b) {
            auto wa = file_rw_weight(sort_, a.value), wb = file_rw_weight(sort_, b.value);
            if (wa != wb) return wa > wb;
            if (a.key.pid != b.key.pid) return a.key.pid < b.key.pid;
            if (a.key.dev != b.key.dev) return a.key.dev < b.key.dev;
            return a.key.ino < b.key.ino;
        });
        table_.begin();
        for (const Entry& e : entries) {
            const file_rw_counts& v = e.value;
            table_.row()
                .number(e.key.pid)
                .text(fixed_string(v.comm))
                .number(v.reads)
                .number(v.writes)
                .number(v.read_bytes)
                .number(v.read_bytes / 1024)
                .number(v.write_bytes)
                .number(v.write_bytes / 1024)
                .text(type_name(v.type))
                .number(e.key.ino)
                .text(file_name(e.key, v))
                .end();
        }
        table_.end([&](Record& t) {
            t.number(reads).number(writes).number(read_bytes).number(write_bytes).number(files);
        });
    }

  private:
    static RecordLayout row_layout() {
        return {0,
                {column("pid", "PID", 7), column("comm", "COMM", 16),
                 column("reads", "READS", 6, Align::right),
                 column("writes", "WRITES", 6, Align::right), json_field("read_bytes"),
                 text_column("R_Kb", 7, Align::right), json_field("write_bytes"),
                 text_column("W_Kb", 7, Align::right), column("type", "T", 1), json_field("inode"),
                 column("file", "FILE", 0)}};
    }

    FileRwSort sort_;
    TopTable table_;
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h): the entries of one
// interval's map. Variant bit 0: -r 2 -s reads; bit 1: -s wbytes; bit 2: the
// screen cleared as on a terminal. The load average is a fixed string.
void decode_filetop(const CommonOptions& options, uint32_t variant, Output& out,
                    std::span<const RecordedEvent> events) {
    Settings settings;
    if (variant & 1) {
        settings.top.rows = 2;
        settings.sort = FileRwSort::reads;
    }
    if (variant & 2) settings.sort = FileRwSort::wbytes;
    Printer(options, settings, out, (variant & 4) != 0, fixed_load_average)
        .print(recorded_entries<file_rw_key, file_rw_counts>(events));
}

int filetop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("filetop",
                    "Files by reads and writes (calls and bytes), per process, every interval "
                    "(1 s unless given).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::interval});
    cli.add_switch('a', "all",
                   "every file type (sockets, pipes, devices), not only "
                   "regular files",
                   &settings.all_files);
    add_top_flags(cli, settings.top, "rows", "files");
    cli.add_option('s', "sort", "KEY",
                   "sort by all (bytes, then calls; default), reads, writes, rbytes or wbytes",
                   [&](std::string_view v) { settings.sort = parse_file_rw_sort(v); });
    cli.set_examples("  filetop                    refresh every second, like top\n"
                     "  filetop -C 5 3             three tables 5 s apart, screen not cleared\n"
                     "  filetop -p 181 -s wbytes   process 181's files, most written first\n"
                     "  filetop -a -r 0            every file type, every file\n"
                     "  filetop -o json 10         JSON Lines, a record every 10 seconds");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (!options.interval) options.interval = 1;
    bool clear = top_clears_screen(options, settings.top);

    return run_summary_tool<filetop_bpf>(
        {.name = "filetop",
         .options = options,
         .attach_steps = [] { return std::vector<AttachStep>{file_rw_step()}; },
         .configure =
             [&](filetop_bpf& skel, const AttachPlan&) {
                 skel.rodata->file_rw_self_tgid = static_cast<__u32>(getpid());
                 skel.rodata->all_files = settings.all_files;
             },
         .announcement = interval_announcement(options, "Tracing file reads and writes")},
        [&](filetop_bpf& skel, const AttachPlan&, Output& out) {
            return [&skel, printer = Printer(options, settings, out, clear,
                                             [] { return load_average(); })]() mutable {
                printer.print(take_map<file_rw_key, file_rw_counts>(skel.maps.files));
                uint64_t dropped =
                    __atomic_exchange_n(&skel.bss->calls_dropped, 0, __ATOMIC_RELAXED);
                if (dropped)
                    warn("%llu reads and writes not counted (table of %d files full)",
                         static_cast<unsigned long long>(dropped), FILE_RW_FILES);
            };
        });
}

} // namespace corescope::tools
