#include "tool.h"
#include "standalone.h"

#include "clock.h"

#include <atomic>
#include <bpf/bpf.h>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace corescope {

namespace {

std::atomic<bool> stop_flag{false};

void on_stop_signal(int) {
    stop_flag.store(true);
}

bool verbose_logging = false;
std::mutex log_mutex;
std::deque<std::string> log_lines;

int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
    if (verbose_logging) return vfprintf(stderr, format, args);
    if (level == LIBBPF_DEBUG) return 0;
    char line[512];
    vsnprintf(line, sizeof line, format, args);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    std::lock_guard lock(log_mutex);
    log_lines.push_back(text);
    if (log_lines.size() > 3) log_lines.pop_front();
    return 0;
}

constexpr int poll_period_ms = 50;

} // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() {
    return stop_flag.load();
}

void request_stop() {
    stop_flag.store(true);
}

void setup_libbpf_logging(bool verbose) {
    verbose_logging = verbose;
    libbpf_set_print(libbpf_log);
}

std::string recent_libbpf_messages() {
    std::lock_guard lock(log_mutex);
    std::string out;
    for (const std::string& line : log_lines)
        out += (out.empty() ? "" : "; ") + line;
    return out;
}

int run_tool(const char* tool, int argc, char** argv, int (*body)(int, char**)) {
    set_program_name(tool);
    // Messages quote what the user or the system gave (a bad value, a path):
    // escaped, so that a newline or an escape sequence in it stays one line
    // and cannot change the terminal.
    try {
        return body(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", tool,
                     text_escaped(e.what()).c_str(), tool);
        return e.exit_code();
    } catch (const Error& e) {
        std::fprintf(stderr, "%s: %s\n", tool, text_escaped(e.what()).c_str());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", tool, text_escaped(e.what()).c_str());
        return exit_runtime_error;
    }
}

std::string invoked_name(int argc, char** argv, const char* fallback) {
    if (argc < 1 || argv[0] == nullptr || argv[0][0] == '\0') return fallback;
    std::string path = argv[0];
    std::string base = path.substr(path.rfind('/') + 1);
    return base.empty() ? fallback : base;
}

int run_standalone(const char* default_name, int argc, char** argv, int (*body)(int, char**)) {
    std::string name = invoked_name(argc, argv, default_name);
    return run_tool(name.c_str(), argc, argv, body);
}

void require_bpf(const CommonOptions& options) {
    KernelFeatures& features = KernelFeatures::instance();
    if (!options.btf_path.empty()) {
        features.set_btf_path(options.btf_path);
        // Named by the user: a file that is not BTF is a bad argument, said
        // here rather than as a CO-RE relocation failure after loading.
        if (features.kernel_btf() == nullptr)
            throw UsageError("invalid BTF file '" + options.btf_path +
                             "': " + features.btf_error());
    }
    std::string why;
    if (!features.bpf_permitted(&why)) throw RuntimeError("cannot use BPF: " + why);
    if (!features.btf())
        throw RuntimeError("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
                           "use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or pass --btf FILE");
}

bpf_object_open_opts make_open_opts(const CommonOptions& options) {
    bpf_object_open_opts opts{};
    opts.sz = sizeof opts;
    opts.btf_custom_path = options.btf_path.empty() ? nullptr : options.btf_path.c_str();
    return opts;
}

void show_plan(const AttachPlan& plan, const CommonOptions& options) {
    if (options.dry_run) {
        std::string text =
            options.format == OutputFormat::json ? plan.describe_json() : plan.describe();
        std::fputs(text.c_str(), stdout);
        std::fflush(stdout);
    } else if (options.verbose) {
        std::fputs(plan.describe().c_str(), stderr);
    }
}

AttachPlan choose_partial_plan(const std::string& tool, const std::vector<AttachStep>& steps) {
    std::vector<std::string> unavailable;
    AttachPlan plan =
        AttachPlan::choose_available(tool, steps, KernelFeatures::instance(), unavailable);
    auto reasons = [](const AttachPlan::Choice& c) {
        std::string text;
        for (const std::string& r : c.passed_over)
            text += (text.empty() ? "" : "; ") + r;
        return text;
    };
    if (plan.choices().empty()) {
        std::string message = "this kernel offers no way to trace ";
        for (size_t i = 0; i < plan.missing().size(); i++) {
            const AttachPlan::Choice& c = plan.missing()[i];
            message += (i ? ", nor " : "") + c.what + " (" + reasons(c) + ")";
        }
        throw RuntimeError(message);
    }
    for (const AttachPlan::Choice& c : plan.missing())
        warn("%s not traced: this kernel offers no way (%s)", c.what.c_str(), reasons(c).c_str());
    return plan;
}

void show_plan_without_bpf(const CommonOptions& options, const std::string& tool,
                           const std::string& reads) {
    std::string text;
    if (options.format == OutputFormat::json)
        JsonObject(text)
            .string("type", "attach_plan")
            .string("tool", tool)
            .raw("steps", "[]")
            .end_line();
    else
        text =
            "attach plan for " + tool + ": nothing to attach (it " + reads + "; it loads no BPF)\n";
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
}

void warn(const char* format, ...) {
    std::string line = program_name() + ": ";
    char text[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    line += text;
    line += '\n';
    std::fputs(line.c_str(), stderr);
}

void json_notice(const CommonOptions& options, Output& out, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, uint64_t>> counts) {
    if (options.format != OutputFormat::json) return;
    JsonObject record(out.buffer());
    record.string("type", type);
    for (const auto& [name, count] : counts)
        record.unsigned_number(name, count);
    record.end_line();
}

uint64_t skipped_runs(const bpf_object* object) {
    uint64_t skipped = 0;
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, object) {
        int fd = bpf_program__fd(prog);
        if (fd < 0) continue; // not loaded (another tier's)
        bpf_prog_info info{};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) skipped += info.recursion_misses;
    }
    return skipped;
}

void report_skipped_runs(const bpf_object* object, Output& out, const CommonOptions& options) {
    uint64_t skipped = skipped_runs(object);
    if (skipped == 0) return;
    warn("the kernel skipped %llu runs of the BPF programs (another BPF program was running on "
         "that CPU): what they would have seen is missing",
         static_cast<unsigned long long>(skipped));
    json_notice(options, out, "skipped", {{"skipped_runs", skipped}});
    out.flush();
    out.check(); // a write error here is reported like any other
}

void announce(const std::string& text) {
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "%s\n", text.c_str());
}

namespace {

void report_lost(const std::string& tool, uint64_t newly_lost, uint64_t total, Output& out,
                 const CommonOptions& options) {
    const std::string& name = program_name().empty() ? tool : program_name();
    std::fprintf(stderr, "%s: lost %llu events (kernel buffer full; %llu lost in all)\n",
                 name.c_str(), static_cast<unsigned long long>(newly_lost),
                 static_cast<unsigned long long>(total));
    json_notice(options, out, "lost", {{"lost", newly_lost}, {"lost_total", total}});
}

} // namespace

void run_event_loop(const std::string& tool, EventStream& stream, Output& out,
                    const CommonOptions& options, const std::function<void()>& detach,
                    const std::function<bool()>& should_stop) {
    double deadline = options.duration ? monotonic_seconds() + *options.duration : 0;
    uint64_t lost_reported = 0;
    double next_lost_check = monotonic_seconds() + 1.0;
    auto check_lost = [&]() {
        uint64_t lost = stream.lost();
        if (lost > lost_reported) {
            report_lost(tool, lost - lost_reported, lost, out, options);
            lost_reported = lost;
        }
    };
    auto check_lost_each_second = [&]() {
        if (monotonic_seconds() < next_lost_check) return;
        check_lost();
        next_lost_check = monotonic_seconds() + 1.0;
    };
    // Also from inside a poll that a slow reader keeps busy for seconds.
    stream.set_tick(check_lost_each_second);
    while (!stop_requested() && !out.closed()) {
        if (should_stop && should_stop()) break;
        int timeout = poll_period_ms;
        if (deadline > 0) {
            double left = deadline - monotonic_seconds();
            if (left <= 0) break;
            timeout = std::min(timeout, static_cast<int>(left * 1000) + 1);
        }
        stream.poll(timeout);
        out.flush();
        if (out.reader_gone()) break;
        check_lost_each_second();
    }
    stream.set_tick({});
    // Detached first: under a steady stream of events (runqslower 0 on a
    // busy host) the drain below would otherwise never find the buffer
    // empty, and the tool would not end.
    detach();
    // Everything the kernel handed over before we stopped is printed.
    if (!out.closed()) {
        while (stream.drain() > 0 && !out.closed())
            out.flush();
        check_lost();
        out.flush();
    }
    out.check();
}

void run_summary_loop(const CommonOptions& options, Output& out,
                      const std::function<void()>& print_summary,
                      const std::function<void()>& every_second) {
    double start = monotonic_seconds();
    double deadline = options.duration ? start + *options.duration : 0;
    uint64_t printed = 0;
    double next = options.interval ? start + *options.interval : 0;
    double next_tick = start + 1;
    while (!stop_requested() && !out.closed()) {
        double now = monotonic_seconds();
        if (deadline > 0 && now >= deadline) break;
        if (every_second && now >= next_tick) {
            every_second();
            next_tick = monotonic_seconds() + 1;
            continue;
        }
        if (next > 0 && now >= next) {
            print_summary();
            out.flush();
            printed++;
            if (options.count && printed >= *options.count) break;
            next += *options.interval;
            continue;
        }
        double wake = next > 0 ? next : (deadline > 0 ? deadline : now + 0.1);
        if (deadline > 0) wake = std::min(wake, deadline);
        double sleep_s = std::min(wake - now, 0.1);
        if (out.reader_gone()) break;
        if (sleep_s > 0) {
            struct timespec ts {};
            ts.tv_sec = static_cast<time_t>(sleep_s);
            ts.tv_nsec = static_cast<long>((sleep_s - static_cast<double>(ts.tv_sec)) * 1e9);
            nanosleep(&ts, nullptr);
        }
    }
    // Interrupted or out of time: the partial interval is still worth
    // printing (not after count summaries, nor to a reader gone away).
    bool done = options.count && printed >= *options.count;
    if (!out.closed() && !done) {
        print_summary();
        out.flush();
    }
    out.check();
}

} // namespace corescope
