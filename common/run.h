// The main sequence every tool shares, written once: check that BPF can be
// used here, choose the attach plan, open the skeleton, set its filters and
// the tool's own switches, load it, show the plan (and stop there on
// --dry-run), fill the filter maps, attach, and run the event loop or the
// summary loop to the end. A tool's entry point parses its command line and
// hands over, in a ToolSpec and a printer, only what is its own.
#pragma once

#include "clock.h"
#include "filters.h"
#include "net_format.h"
#include "record.h"
#include "skeleton.h"
#include "task_filters.h"
#include "tool.h"

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace corescope {

template <class Skeleton>
struct ToolSpec {
    std::string name; // in messages and in the plan
    const CommonOptions& options;
    // Called once BPF is known to be usable here: the attach points, in
    // order of preference.
    std::function<std::vector<AttachStep>()> attach_steps;
    // The -4/-6 and port filters of a TCP tool (bpf/sock.bpf.h).
    const NetFilters* net_filters = nullptr;
    // The sizes of the event stream, where the skeleton has one
    // (bpf/events.bpf.h); the defaults suit most tools.
    EventStreamConfig events = {};
    // Between open and load, after the filters: the tool's own switches
    // (rodata) and map sizes.
    std::function<void(Skeleton&, const AttachPlan&)> configure = {};
    // After load, after the filter maps, unless --dry-run: the tool's own maps.
    std::function<void(Skeleton&)> fill_maps = {};
    // A tool with an event stream for one mode and a summary for another
    // (softirqs --slower): it takes interval [count] for the summary and
    // refuses it with the events itself.
    bool events_or_summary = false;
    // "Tracing ... Hit Ctrl-C to end.", said on a terminal once attached
    // (interval_announcement() for a summary tool printing every interval).
    std::string announcement = {};
    // Summary tools that print once, at the end: detach before reading the
    // maps, since naming stacks can take seconds on a busy host and what
    // happens meanwhile is not part of the trace.
    bool detach_before_summary = false;
    // A tool whose steps each show something of their own (klockstat: lock
    // waits, lock hold times): a step this kernel offers no way to trace is
    // left out (AttachPlan::choose_available) and said on stderr in one
    // line, and the plan (-v, --dry-run) names it; only a plan with no step
    // left fails (exit 1). configure and the printer ask the plan which
    // steps it took (AttachPlan::has_step).
    bool partial_plan = false;
};

// A loaded skeleton, its plan, and its event stream's sizes.
template <class Skeleton>
struct LoadedTool {
    SkeletonPtr<Skeleton> skel;
    AttachPlan plan;
    EventStreamConfig events;
};

// What the skeleton has says what the sequence sets up: the event stream of
// bpf/events.bpf.h, the filters of bpf/filters.bpf.h (with the cgroup ID of
// bpf/task_filters.bpf.h, for tools that match tasks other than the current
// one), -x's failed_only, and the network filters of bpf/sock.bpf.h. The
// flags a tool's command line declares are checked against it
// (check_declared_filters).
// "Tracing WHAT, printing every N s... Hit Ctrl-C to end." (without the
// interval when there is none).
inline std::string interval_announcement(const CommonOptions& options, std::string_view what) {
    std::string text(what);
    if (options.interval) text += ", printing every " + std::to_string(*options.interval) + " s";
    return text + "... Hit Ctrl-C to end.";
}

template <class Skeleton>
inline constexpr bool has_event_stream = requires(Skeleton* s) {
    s->maps.events_lost;
};
template <class Skeleton>
inline constexpr bool has_filters = requires(Skeleton* s) {
    s->maps.filter_pids;
};
template <class Skeleton>
inline constexpr bool has_task_filters = requires(Skeleton* s) {
    s->rodata->filter_cgroup_id;
};
// -x: the BPF side drops successful operations (const volatile bool failed_only).
template <class Skeleton>
inline constexpr bool has_failed_filter = requires(Skeleton* s) {
    s->rodata->failed_only;
};
template <class Skeleton>
inline constexpr bool has_net_filters = requires(Skeleton* s) {
    s->rodata->filter_family;
    s->maps.port_filter;
};

// A shared filter flag the tool's command line takes must be one its BPF
// side applies: checked on every run (so every tool's --dry-run test shows a
// mismatch), never accepted and ignored.
template <class Skeleton>
void check_declared_filters(const ToolSpec<Skeleton>& spec) {
    const CommonOptions& options = spec.options;
    auto refuse = [&](const char* flag, const char* missing) {
        throw RuntimeError("internal error: " + spec.name + " takes " + flag +
                           " but its BPF side has no " + missing);
    };
    bool filters = has_filters<Skeleton>;
    if (options.accepts(Flag::pid) && !filters) refuse("-p", "PID filter (bpf/filters.bpf.h)");
    if (options.accepts(Flag::tid) && !filters) refuse("-t", "TID filter (bpf/filters.bpf.h)");
    if (options.accepts(Flag::uid) && !filters) refuse("-u", "UID filter (bpf/filters.bpf.h)");
    if (options.accepts(Flag::cgroup) && !filters)
        refuse("-c", "cgroup filter (bpf/filters.bpf.h)");
    if (options.accepts(Flag::failed) && !has_failed_filter<Skeleton>)
        refuse("-x", "failed_only switch");
    if constexpr (has_event_stream<Skeleton>)
        if (options.accepts(Flag::interval) && !spec.events_or_summary)
            refuse("interval [count]", "summary to print per interval");
}

// Everything before attach. Empty after --dry-run printed the plan.
template <class Skeleton>
std::optional<LoadedTool<Skeleton>> load_tool(const ToolSpec<Skeleton>& spec) {
    const CommonOptions& options = spec.options;
    check_declared_filters(spec);
    install_stop_handlers();
    setup_libbpf_logging(options.verbose);
    require_bpf(options);
    AttachPlan plan = spec.partial_plan ? choose_partial_plan(spec.name, spec.attach_steps())
                                        : AttachPlan::choose(spec.name, spec.attach_steps(),
                                                             KernelFeatures::instance());

    bpf_object_open_opts open_opts = make_open_opts(options);
    SkeletonPtr<Skeleton> skel = open_skeleton<Skeleton>(spec.name, &open_opts);
    EventStreamConfig events = spec.events;
    if constexpr (has_event_stream<Skeleton>) events = prepare_event_stream(skel.get(), events);
    if constexpr (has_task_filters<Skeleton>)
        configure_task_filters(skel.get(), options);
    else if constexpr (has_filters<Skeleton>)
        configure_filters(skel.get(), options);
    if constexpr (has_net_filters<Skeleton>)
        if (spec.net_filters) configure_net_filters(skel.get(), *spec.net_filters);
    if constexpr (has_failed_filter<Skeleton>) skel->rodata->failed_only = options.failed;
    if (spec.configure) spec.configure(*skel, plan);
    load_skeleton(spec.name, skel.get(), plan);
    show_plan(plan, options);
    if (options.dry_run) return std::nullopt;
    if constexpr (has_filters<Skeleton>) fill_filter_maps(skel.get(), options);
    if constexpr (has_net_filters<Skeleton>)
        if (spec.net_filters) fill_net_filters(skel.get(), *spec.net_filters);
    if (spec.fill_maps) spec.fill_maps(*skel);
    return LoadedTool<Skeleton>{std::move(skel), std::move(plan), events};
}

// An event tool. Its printer says what a record holds (layout(), a
// RecordLayout of common/record.h) and fills one from each event
// (print(RecordWriter&, data, size)); the header line is printed once
// attached. Runs until SIGINT/SIGTERM, -d or a closed reader. A printer
// with finish(RecordWriter&) prints there, once every event is in, what it
// gathered from them (tcpdrop -o svg: common/event_stacks.h).
template <class Skeleton, class Printer>
int run_event_tool(const ToolSpec<Skeleton>& spec, Printer printer) {
    static_assert(has_event_stream<Skeleton>, "an event tool's BPF side uses bpf/events.bpf.h");
    std::optional<LoadedTool<Skeleton>> tool = load_tool(spec);
    if (!tool) return exit_ok;
    Skeleton& skel = *tool->skel;
    Output out;
    RecordWriter records(spec.options, out, printer.layout());
    EventStream stream(tool->events, skel.maps.events, skel.maps.events_lost,
                       [&](const void* data, size_t size) {
                           printer.print(records, data, size);
                           return !out.closed();
                       });
    Links links = tool->plan.attach(skel.obj);
    if constexpr (requires { printer.started(); }) printer.started();
    records.header();
    // Now, not after the first poll period (50 ms later, when no event
    // comes): the header is how a reader knows the tool is attached.
    out.flush();
    announce(spec.announcement);
    run_event_loop(spec.name, stream, out, spec.options,
                   [&] { Links detached = std::move(links); }); // destroyed here: detached
    report_skipped_runs(skel.obj, out, spec.options);
    if constexpr (requires { printer.finish(records); }) {
        printer.finish(records);
        out.flush();
        out.check();
    }
    return exit_ok;
}

// A summary tool: make_summary(Skeleton&, const AttachPlan&, Output&) is
// called right after attach, so that whatever it measures from (a clock)
// starts with the trace. Counters start from zero, not from a read of the
// maps here: the maps are new, so all they count since the first link
// attached is the first interval's, whereas a read here missed what came
// between the last attach and the read (a busy machine may not run the tool
// for a while in between: cachestat's first interval once lost a test's
// whole write). It returns what prints
// one summary: a callable, or an object with print() and, if it has work to
// do meanwhile, every_second(). Runs every interval, count times at most, or
// once at the end (see run_summary_loop).
template <class Skeleton, class MakeSummary>
int run_summary_tool(const ToolSpec<Skeleton>& spec, MakeSummary make_summary) {
    std::optional<LoadedTool<Skeleton>> tool = load_tool(spec);
    if (!tool) return exit_ok;
    Skeleton& skel = *tool->skel;
    Output out;
    Links links = tool->plan.attach(skel.obj);
    auto summary = make_summary(skel, tool->plan, out);
    out.flush(); // a header the summary printed (vfsstat), at once
    announce(spec.announcement);
    auto print = [&] {
        if (spec.detach_before_summary) {
            Links detached = std::move(links); // destroyed here, and with it every link
        }
        if constexpr (std::is_invocable_v<decltype(summary)&>)
            summary();
        else
            summary.print();
    };
    std::function<void()> every_second;
    if constexpr (requires { summary.every_second(); })
        every_second = [&] { summary.every_second(); };
    run_summary_loop(spec.options, out, print, every_second);
    report_skipped_runs(skel.obj, out, spec.options);
    return exit_ok;
}

// A rate tool's summary (pidpersec, vfsstat): each interval, the counters
// read now and the seconds since the last reading, for the printer to turn
// into per-second rates against the counters it printed before.
template <class Printer, class Read>
auto print_rates(Printer printer, Read read) {
    return [printer = std::move(printer), read = std::move(read),
            last = monotonic_seconds()]() mutable {
        double now = monotonic_seconds();
        printer.print(read(), now - last);
        last = now;
    };
}

} // namespace corescope
