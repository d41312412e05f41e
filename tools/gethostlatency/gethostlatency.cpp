// gethostlatency: the latency of host name lookups (getaddrinfo,
// gethostbyname, gethostbyname2) through uprobes on the C library.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"
#include "text_file.h"

// The shared layout needs the kernel types first.
#include <linux/types.h>

#include "gethostlatency.skel.h"
#include "gethostlatency/gethostlatency.h"

#include <cstddef>
#include <cstring>
#include <set>
#include <sys/stat.h>

namespace corescope::tools {

namespace {

const char* const function_names[] = {"getaddrinfo", "gethostbyname", "gethostbyname2"};

// glibc's libc.so.6 (or libc-2.31.so), musl's ld-musl-ARCH.so.1.
bool is_libc_name(std::string_view path) {
    std::string_view base = path.substr(path.rfind('/') + 1);
    return base.rfind("libc.so", 0) == 0 || base.rfind("libc-", 0) == 0 ||
           (base.rfind("ld-musl-", 0) == 0 && base.find(".so") != std::string_view::npos);
}

// The C library a process has mapped, as a path in that process's mount
// namespace; empty when it maps none (statically linked).
std::string libc_in_maps(const std::string& maps_path) {
    std::string maps = read_text_file(maps_path).value_or("");
    for (std::string_view line : split_lines(maps)) {
        auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        std::string path(line.substr(slash));
        if (is_libc_name(path)) return path;
    }
    return {};
}

// Where the C library is, when this tool is linked statically.
std::string libc_in_usual_places() {
    for (const char* p : {"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6",
                          "/lib/riscv64-linux-gnu/libc.so.6", "/lib64/libc.so.6",
                          "/usr/lib64/libc.so.6", "/lib/libc.so.6", "/usr/lib/libc.so.6",
                          "/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1"})
        if (access(p, R_OK) == 0) return p;
    return {};
}

// The libraries to probe: --libc, or the one each -p process uses (reached
// through /proc/PID/root, so containers work), or the system's own. The same
// file reached by two paths is probed once.
std::vector<std::string> libc_paths(const std::string& libc_option,
                                    const std::vector<uint32_t>& pids) {
    std::vector<std::string> candidates;
    if (!libc_option.empty()) {
        candidates.push_back(libc_option);
    } else if (!pids.empty()) {
        for (uint32_t pid : pids) {
            std::string proc = "/proc/" + std::to_string(pid);
            if (access(proc.c_str(), F_OK) != 0)
                throw RuntimeError("no process " + std::to_string(pid));
            std::string path = libc_in_maps(proc + "/maps");
            if (path.empty())
                throw RuntimeError("process " + std::to_string(pid) +
                                   " maps no shared C library (statically linked?); "
                                   "name its resolver library with --libc PATH");
            candidates.push_back(proc + "/root" + path);
        }
    } else {
        std::string path = libc_in_maps("/proc/self/maps");
        if (path.empty()) path = libc_in_usual_places();
        if (path.empty())
            throw RuntimeError("cannot find the C library (not in /proc/self/maps or the usual "
                               "places): name it with --libc PATH");
        candidates.push_back(path);
    }
    std::vector<std::string> paths;
    std::set<std::pair<dev_t, ino_t>> seen;
    for (const std::string& path : candidates) {
        struct stat st {};
        if (stat(path.c_str(), &st) != 0)
            throw RuntimeError(errno_message("cannot use the C library " + path, errno));
        if (seen.insert({st.st_dev, st.st_ino}).second) paths.push_back(path);
    }
    return paths;
}

std::vector<AttachStep> attach_steps(const std::vector<std::string>& libcs) {
    AttachWay uprobes;
    for (const std::string& libc : libcs) {
        for (const char* func : function_names) {
            uprobes.points.push_back(
                {std::string(func) + "_entry", AttachKind::uprobe, libc + ":" + func});
            uprobes.points.push_back({"lookup_return", AttachKind::uretprobe, libc + ":" + func});
        }
    }
    return {{"host name lookups", {uprobes}}};
}

struct Printer {
    RecordLayout layout() const {
        return {task_time | task_pid | task_tid | task_comm,
                {time_column(), pid_column(), comm_column(), json_field("function"),
                 column("latency_ms", "LATms", 10, Align::right), json_field("failed"),
                 column("host", "HOST", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<gethostlatency_event>(data, size, offsetof(gethostlatency_event, host));
        if (!e) return;
        // getaddrinfo returns 0 or an EAI_ code; gethostbyname* a pointer or NULL.
        bool failed = e->func == GETHOSTLATENCY_GETADDRINFO ? e->ret != 0 : e->ret == 0;
        if (Record r = records.begin(task_of(*e)))
            r.text(function_names[e->func % 3])
                .real(static_cast<double>(e->lat_ns) / 1e6)
                .boolean(failed)
                .text(tail_string(data, size, e->host))
                .end();
    }
};

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_gethostlatency(const CommonOptions& options, uint32_t, Output& out,
                           std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int gethostlatency(int argc, char** argv) {
    CommonOptions options;
    std::string libc_option;
    CommandLine cli("gethostlatency",
                    "Show the latency of host name lookups: getaddrinfo(), gethostbyname() and "
                    "gethostbyname2() in the C library.",
                    {Flag::pid, Flag::tid, Flag::name, Flag::duration});
    cli.add_option(0, "libc", "PATH", "probe this C library (default: the one processes use)",
                   [&](std::string_view v) {
                       std::string path(v);
                       struct stat st {};
                       if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                           throw UsageError("invalid C library '" + path + "': no such file");
                       libc_option = path;
                   });
    cli.set_examples("  gethostlatency                 all lookups\n"
                     "  gethostlatency -p 181          lookups of PID 181 (and its C library)\n"
                     "  gethostlatency --libc /srv/root/lib/libc.so.6\n"
                     "  gethostlatency -o json -d 60   one minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<gethostlatency_bpf>(
        {.name = "gethostlatency",
         .options = options,
         .attach_steps = [&] { return attach_steps(libc_paths(libc_option, options.pids)); },
         .announcement = "Tracing host name lookups... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
