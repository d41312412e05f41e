// javagc: garbage collections of HotSpot JVMs (how long each took, full or
// not, which collector, the memory its pools used before and after), from
// the USDT probes of the JVM's libjvm.so.
#include "decoder.h"
#include "event_fields.h"
#include "probe_spec.h"
#include "run.h"
#include "user_files.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

// libbpf's usdt.bpf.h declares a kconfig value as C's _Bool, which the
// skeleton repeats; g++ takes it as an extension, clang++ does not.
#define _Bool bool
#include "javagc.skel.h"
#undef _Bool
#include "javagc/javagc.h"

#include <algorithm>
#include <cstddef>
#include <glob.h>
#include <sys/stat.h>

namespace corescope::tools {

namespace {

// The JVM's library: the one each -p process maps, else the system's JDK.
UserFile libjvm() {
    std::vector<std::string> places = {"/usr/lib/jvm/default-java/lib/server/libjvm.so"};
    glob_t found{};
    if (glob("/usr/lib/jvm/*/lib/server/libjvm.so", 0, nullptr, &found) == 0)
        for (size_t i = 0; i < found.gl_pathc; i++)
            places.emplace_back(found.gl_pathv[i]);
    globfree(&found);
    return {"libjvm.so (a HotSpot JVM)",
            [](std::string_view name) { return is_shared_library(name, "libjvm"); }, places,
            "--libjvm PATH"};
}

// The probes, with the program each runs.
constexpr const char* probes[][2] = {{"gc__begin", "gc_begin"},
                                     {"gc__end", "gc_end"},
                                     {"mem__pool__gc__begin", "pool_begin"},
                                     {"mem__pool__gc__end", "pool_end"}};

std::vector<AttachStep> attach_steps(const std::vector<std::string>& libs) {
    AttachWay way;
    for (const std::string& lib : libs) {
        std::vector<UsdtProbe> has = usdt_probes(lib);
        for (const auto& names : probes) {
            std::string_view probe = names[0], program = names[1];
            bool found = std::any_of(has.begin(), has.end(), [&](const UsdtProbe& p) {
                return p.provider == "hotspot" && p.name == probe;
            });
            if (!found)
                throw RuntimeError(lib + " has no USDT probe hotspot:" + std::string(probe) +
                                   " (a JVM built without its DTrace probes?)");
            way.points.push_back(
                {std::string(program), AttachKind::usdt, lib + ":hotspot:" + std::string(probe)});
        }
    }
    return {{"garbage collections (hotspot USDT)", {way}}};
}

struct Printer {
    bool milliseconds = false;

    RecordLayout layout() const {
        return {task_time | task_pid | task_tid | task_comm,
                {pid_column(), comm_column(), text_column("TYPE", 5), json_field("full"),
                 with_decimals(milliseconds ? 3 : 1,
                               text_column(milliseconds ? "MSECS" : "USECS", 10, Align::right)),
                 json_field("duration_us"), text_column("BEFORE_KB", 10, Align::right),
                 text_column("AFTER_KB", 10, Align::right), json_field("used_before"),
                 json_field("used_after"), json_field("pools"), column("manager", "GC", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<javagc_event>(data, size);
        if (!e) return;
        double us = static_cast<double>(e->duration_ns) / 1e3;
        if (Record r = records.begin(task_of(*e))) {
            r.text(e->full ? "full" : "minor").boolean(e->full != 0);
            r.real(milliseconds ? us / 1e3 : us).real(us);
            if (e->pools)
                r.number(e->used_before / 1024).number(e->used_after / 1024);
            else
                r.absent().absent();
            r.number(e->used_before).number(e->used_after).number(e->pools);
            std::string_view manager = fixed_string(e->manager);
            if (manager.empty())
                r.absent();
            else
                r.text(manager);
            r.end();
        }
    }
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); -m: milliseconds.
void decode_javagc(const CommonOptions& options, uint32_t, Output& out,
                   std::span<const RecordedEvent> events) {
    decode_events(Printer{options.milliseconds}, options, out, events);
}

int javagc(int argc, char** argv) {
    CommonOptions options;
    std::string lib;
    double minimum_ms = 0;
    CommandLine cli("javagc",
                    "Show the garbage collections of HotSpot JVMs (Java): how long each took, "
                    "from the JVM's USDT probes.",
                    {Flag::pid, Flag::uid, Flag::cgroup, Flag::name, Flag::time, Flag::duration,
                     Flag::milliseconds});
    cli.add_option('M', "minimum", "MS",
                   "only collections that took at least MS milliseconds (fractions allowed)",
                   [&](std::string_view v) { minimum_ms = parse_milliseconds("--minimum", v); });
    cli.add_option(0, "libjvm", "PATH",
                   "probe this libjvm.so (default: the one -p's processes use, else the "
                   "system's JDK)",
                   [&lib](std::string_view v) {
                       std::string path(v);
                       struct stat st {};
                       if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                           throw UsageError("invalid --libjvm '" + path + "': no such file");
                       lib = path;
                   });
    cli.set_positional("PID", "the JVM to trace, as -p PID (bcc's spelling)",
                       [&](std::string_view v) { options.pids.push_back(parse_pid("PID", v)); });
    cli.set_examples("  javagc 181                 the collections of JVM 181\n"
                     "  javagc -p 181 -m -T        in milliseconds, with times\n"
                     "  javagc -M 10               every JVM of the system's JDK, 10 ms or more\n"
                     "  javagc -p 181 -o json      JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<javagc_bpf>(
        {.name = "javagc",
         .options = options,
         .attach_steps = [&] { return attach_steps(user_file_paths(libjvm(), lib, options.pids)); },
         .configure =
             [&](javagc_bpf& skel, const AttachPlan&) {
                 skel.rodata->min_duration_ns = milliseconds_to_ns(minimum_ms);
             },
         .announcement = "Tracing Java garbage collections... Hit Ctrl-C to end."},
        Printer{options.milliseconds});
}

} // namespace corescope::tools
