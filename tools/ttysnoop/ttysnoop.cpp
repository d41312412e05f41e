// ttysnoop: what is written to a terminal, escaped so that it cannot act on
// the terminal that watches it.
#include "decoder.h"
#include "errors.h"
#include "event_fields.h"
#include "output.h"
#include "run.h"
#include "text_file.h"

#include <linux/types.h>
#include "ttysnoop.skel.h"
#include "ttysnoop/ttysnoop.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

const char* const call_names[TTYSNOOP_CALLS] = {"write", "writev", "pwritev2"};

// decode_ttysnoop's variant bits.
constexpr uint32_t variant_every_tty = 1; // no terminal named: the TTY column

// The terminal's name from its device number alone (decoders look nothing
// up): pts/N, ttyN, ttySN, else MAJOR:MINOR.
std::string tty_name(uint32_t major, uint32_t minor) {
    if (major >= 136 && major <= 143) return "pts/" + std::to_string(((major - 136) << 20) | minor);
    if (major == 4 && minor < 64) return "tty" + std::to_string(minor);
    if (major == 4 && minor < 256) return "ttyS" + std::to_string(minor - 64);
    return std::to_string(major) + ":" + std::to_string(minor);
}

struct Printer {
    bool every_tty = false;

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), shown_if(every_tty, column("tty", "TTY", 8)),
                 json_field("major"), json_field("minor"), json_field("call"), json_field("fd"),
                 column("bytes", "BYTES", 6, Align::right), json_field("captured"),
                 json_field("truncated"), column("data", "DATA", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<ttysnoop_event>(data, size, offsetof(ttysnoop_event, data));
        if (!e) return;
        // At most what was sent, and never more than the write's size.
        size_t len = std::min<size_t>(
            {e->len, size - offsetof(ttysnoop_event, data), TTYSNOOP_DATA_MAX, e->count});
        std::string_view bytes(e->data, len);
        bool cut = e->count > len;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.lazy([&] { return tty_name(e->major, e->minor); })
            .number(e->major)
            .number(e->minor)
            .text(call_names[e->call % TTYSNOOP_CALLS])
            .number(e->fd)
            .number(e->count)
            .number(len)
            .boolean(cut);
        if (records.json()) {
            r.text(bytes);
        } else {
            // Escaped, so that no byte acts on the watching terminal; a
            // write cut at the capture limit ends with "..." (BYTES has
            // its whole size).
            r.lazy([&] {
                std::string s;
                append_text_escaped(s, bytes);
                if (cut) s += "...";
                return Formatted{s};
            });
        }
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers(
        "write system calls to terminals",
        {{"write", true, false}, {"writev", true, false}, {"pwritev2", true, false}})};
}

// The terminal drivers' majors (/proc/tty/drivers), without the pty
// masters' (what is written there is the terminal's input) and the system
// entries' (/dev/tty, /dev/console and /dev/ptmx stand for other
// terminals; their own device numbers are never the one written).
std::vector<uint32_t> terminal_majors() {
    std::vector<uint32_t> majors;
    std::optional<std::string> text = read_text_file("/proc/tty/drivers");
    if (!text) return majors;
    for (std::string_view line : split_lines(*text)) {
        std::vector<std::string_view> w = split_words(line);
        if (w.size() < 5) continue;
        std::string_view type = w[4];
        if (type.starts_with("system") || type == "pty:master") continue;
        uint32_t major = 0;
        for (char c : w[2]) {
            if (c < '0' || c > '9') {
                major = 0;
                break;
            }
            major = major * 10 + (c - '0');
        }
        if (major && std::find(majors.begin(), majors.end(), major) == majors.end())
            majors.push_back(major);
    }
    return majors;
}

struct Settings {
    std::string path;   // the terminal as given ("/dev/pts/3", or "3")
    uint32_t major = 0; // 0: every terminal
    uint32_t minor = 0;
    bool no_clear = false;
    uint32_t datasize = 256;
    uint32_t datacount = 16;
};

// The terminal named by a path or a pts number, or a usage error naming it.
void resolve_terminal(Settings& s, std::string_view text) {
    std::string path(text);
    if (!path.empty() &&
        std::all_of(path.begin(), path.end(), [](char c) { return c >= '0' && c <= '9'; }))
        path = "/dev/pts/" + path;
    auto refuse = [&](const std::string& why) { return UsageError("'" + path + "': " + why); };
    struct stat st;
    if (stat(path.c_str(), &st) != 0) throw refuse(std::strerror(errno));
    if (!S_ISCHR(st.st_mode)) throw refuse("not a terminal (not a character device)");
    uint32_t major = ::major(st.st_rdev), minor = ::minor(st.st_rdev);
    std::vector<uint32_t> majors = terminal_majors();
    if (std::find(majors.begin(), majors.end(), major) == majors.end()) {
        if (major == 5 && minor == 0)
            throw refuse("stands for the controlling terminal of whoever opens it; name the "
                         "terminal itself (tty(1) prints it)");
        throw refuse("not a terminal that programs write to (device " + std::to_string(major) +
                     ":" + std::to_string(minor) +
                     " is no terminal driver's in /proc/tty/drivers)");
    }
    s.path = path;
    s.major = major;
    s.minor = minor;
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h). Variant bit 0: no
// terminal named (the TTY column).
void decode_ttysnoop(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & variant_every_tty) != 0}, options, out, events);
}

int ttysnoop(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("ttysnoop",
                    "Show what is written to a terminal (write() and writev() on it), escaped.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    cli.add_switch('C', "noclear", "do not clear the screen at start", &settings.no_clear);
    cli.add_number('s', "datasize", "SIZE",
                   "bytes captured of a write, times --datacount (default 256)", &settings.datasize,
                   1, TTYSNOOP_DATA_MAX);
    cli.add_number(0, "datacount", "COUNT",
                   "chunks of --datasize captured of a write (default 16); at most " +
                       std::to_string(TTYSNOOP_DATA_MAX) + " bytes in all",
                   &settings.datacount, 1, TTYSNOOP_DATA_MAX);
    cli.set_positional("device",
                       "the terminal: /dev/pts/N, N (for /dev/pts/N), /dev/ttyS0...; "
                       "default: every terminal",
                       [&](std::string_view v) { resolve_terminal(settings, v); });
    cli.set_examples("  ttysnoop /dev/pts/3       what is written to /dev/pts/3\n"
                     "  ttysnoop 3                the same\n"
                     "  ttysnoop                  every terminal, with a TTY column\n"
                     "  ttysnoop -s 1024 3        up to 16 KiB of each write\n"
                     "  ttysnoop -o json 3        JSON Lines, the bytes exact\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    bool every_tty = settings.major == 0;
    uint64_t limit =
        std::min<uint64_t>(uint64_t{settings.datasize} * settings.datacount, TTYSNOOP_DATA_MAX);
    std::string announcement = "Tracing writes to " +
                               (every_tty ? std::string("every terminal") : settings.path) +
                               "... Hit Ctrl-C to end.";
    return run_event_tool<ttysnoop_bpf>(
        {.name = "ttysnoop",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](ttysnoop_bpf& skel, const AttachPlan&) {
                 if (every_tty) {
                     std::vector<uint32_t> majors = terminal_majors();
                     if (majors.empty())
                         throw RuntimeError("no terminal drivers in /proc/tty/drivers");
                     size_t n = std::min<size_t>(majors.size(), TTYSNOOP_MAX_MAJORS);
                     for (size_t i = 0; i < n; i++)
                         skel.rodata->tty_majors[i] = majors[i];
                     skel.rodata->tty_major_count = n;
                 } else {
                     skel.rodata->target_rdev = (settings.major << 20) | settings.minor;
                 }
                 skel.rodata->capture_limit = static_cast<uint32_t>(limit);
                 skel.rodata->self_tgid = static_cast<uint32_t>(getpid());
                 // As the classic tool does, unless -C: a clear screen to
                 // show the terminal's output on.
                 if (!settings.no_clear && !options.dry_run &&
                     options.format == OutputFormat::text && isatty(STDOUT_FILENO)) {
                     static const char clear[] = "\033[H\033[2J";
                     if (write(STDOUT_FILENO, clear, sizeof(clear) - 1) < 0) {
                     }
                 }
             },
         .announcement = announcement},
        Printer{every_tty});
}

} // namespace corescope::tools
