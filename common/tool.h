// What every tool's entry point shares: the one place errors are reported,
// signals and clean exit, the checks before loading, libbpf's diagnostics,
// loading a skeleton under an attach plan, and the two main loops (event
// tools and summary tools).
#pragma once

#include "attach_plan.h"
#include "cli.h"
#include "errors.h"
#include "event_stream.h"
#include "output.h"

#include <bpf/libbpf.h>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <string>

namespace corescope {

// Runs body and turns what it throws into one line on stderr and an exit
// code: 2 for usage errors (with a pointer to --help), 1 for runtime errors.
// tool is the program's name as invoked (program_name()), which the
// messages give.
int run_tool(const char* tool, int argc, char** argv, int (*body)(int, char**));
// argv[0]'s basename, or fallback when there is none.
std::string invoked_name(int argc, char** argv, const char* fallback);

// SIGINT and SIGTERM ask the main loop to stop; SIGPIPE is ignored so a
// closed pipe shows up as EPIPE on write.
void install_stop_handlers();
bool stop_requested();
// Asks the main loop to stop as SIGINT does (a command the tool started has
// exited).
void request_stop();

// libbpf's messages go to stderr under -v, and are otherwise kept (the last
// few) to explain a failed load.
void setup_libbpf_logging(bool verbose);
std::string recent_libbpf_messages();

// Throws RuntimeError with what to do when BPF cannot be used here: not
// permitted, no kernel BTF (unless --btf gave one).
void require_bpf(const CommonOptions& options);

// Open options that carry --btf.
bpf_object_open_opts make_open_opts(const CommonOptions& options);

// Disables the programs the plan did not choose and loads the rest.
template <class Skeleton>
void load_skeleton([[maybe_unused]] const std::string& tool, Skeleton* skel,
                   const AttachPlan& plan) {
    plan.apply(skel->obj);
    KernelFeatures::instance().release_btf();
    int err = Skeleton::load(skel);
    if (err) {
        std::string detail = recent_libbpf_messages();
        throw RuntimeError(errno_message("cannot load the BPF programs", err) +
                           (detail.empty() ? "" : " (" + detail + ")") +
                           "; run with -v for the verifier log");
    }
}

// Prints the plan: on stderr under -v; on stdout (text or JSON) for --dry-run.
void show_plan(const AttachPlan& plan, const CommonOptions& options);
// A plan of every step this kernel offers a way for (ToolSpec::partial_plan
// in run.h): says on stderr, a line each, what the steps left out lack;
// throws RuntimeError naming them all when none is left.
AttachPlan choose_partial_plan(const std::string& tool, const std::vector<AttachStep>& steps);
// --dry-run's plan for a tool that loads no BPF (tplist): nothing to attach,
// and what it reads instead ("reads ELF notes").
void show_plan_without_bpf(const CommonOptions& options, const std::string& tool,
                           const std::string& reads);

// The main loop of an event tool: polls the stream, flushes the output after
// every batch, reports lost events on stderr (and as a JSON record), and
// stops on SIGINT/SIGTERM, -d, a closed reader, or when should_stop says so.
// Then it calls detach (the kernel stops producing) and hands over every
// event still pending, and flushes.
void run_event_loop(const std::string& tool, EventStream& stream, Output& out,
                    const CommonOptions& options, const std::function<void()>& detach,
                    const std::function<bool()>& should_stop = {});

// The main loop of a summary tool: calls print_summary every interval
// (or once at the end when there is no interval), count times at most,
// until SIGINT/SIGTERM or -d. every_second, when given, runs about once a
// second meanwhile (e.g. to read the mappings of processes that may exit
// before the summary names their stacks).
void run_summary_loop(const CommonOptions& options, Output& out,
                      const std::function<void()>& print_summary,
                      const std::function<void()>& every_second = {});

// Says on stderr that tracing started ("Tracing ... Ctrl-C to end") when
// stderr is a terminal.
void announce(const std::string& text);

// A warning on stderr, printf-style, after the program's name: what the run
// could not do, and what to do about it.
[[gnu::format(printf, 1, 2)]] void warn(const char* format, ...);

// Under -o json, a record of what a warning counted, for readers of stdout:
// {"type":TYPE,"NAME":N,...}. Nothing in text (the warning said it).
void json_notice(const CommonOptions& options, Output& out, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, uint64_t>> counts);

// Runs of the object's programs the kernel skipped because a BPF program was
// already running on that CPU (bpf_prog_info.recursion_misses, kernel 5.12+;
// 0 before). A tracefs tracepoint's program is skipped whenever any kprobe or
// tracepoint program, or a BPF syscall's map update, holds the CPU: a
// tool beside another, or under a softirq that came in meanwhile.
uint64_t skipped_runs(const bpf_object* object);

// At the end of a run: says on stderr (and as a JSON record) how many runs
// the kernel skipped, if any, since what they would have seen is missing
// from the output and no other count shows it.
void report_skipped_runs(const bpf_object* object, Output& out, const CommonOptions& options);

} // namespace corescope
