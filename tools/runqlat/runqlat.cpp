// runqlat: run-queue (scheduler) latency as log2 histograms, in all or per
// process, thread or PID namespace.
#include "clock.h"
#include "decoder.h"
#include "filters.h"
#include "histogram.h"
#include "run.h"
#include "task_filters.h"
#include "text_file.h"

#include "runqlat.skel.h"
#include "runqlat/runqlat.h"
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <time.h>

namespace corescope::tools {

namespace {

struct Settings {
    bool per_process = false; // -P
    bool per_thread = false;  // -L
    bool per_pidns = false;   // --pidnss

    runqlat_split split() const {
        if (per_process) return RUNQLAT_PER_PROCESS;
        if (per_thread) return RUNQLAT_PER_THREAD;
        if (per_pidns) return RUNQLAT_PER_PIDNS;
        return RUNQLAT_ALL;
    }
};

struct KeyedHistogram {
    uint32_t key;
    std::string comm;
    Histogram histogram;
};

// Reads every histogram and deletes it, so that the next interval starts
// from zero. Lookup-and-delete is one step where the kernel has it (5.14).
std::vector<KeyedHistogram> take_histograms(bpf_map* map) {
    std::vector<uint32_t> keys;
    uint32_t next = 0;
    const void* prev = nullptr;
    while (keys.size() < RUNQLAT_MAX_KEYS &&
           bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
        keys.push_back(next);
        prev = &keys.back();
    }
    std::vector<KeyedHistogram> out;
    for (uint32_t key : keys) {
        runqlat_hist value{};
        int err = bpf_map__lookup_and_delete_elem(map, &key, sizeof key, &value, sizeof value, 0);
        if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */) {
            err = bpf_map__lookup_elem(map, &key, sizeof key, &value, sizeof value, 0);
            if (err == 0) bpf_map__delete_elem(map, &key, sizeof key, 0);
        }
        if (err) continue; // gone meanwhile
        out.push_back({key, std::string(fixed_string(value.comm)),
                       Histogram::log2({std::begin(value.slots), std::end(value.slots)})});
    }
    return out;
}

// The current name of a live process or thread; the kernel side keeps the
// name it had when first seen, which an exec may have changed since.
std::string current_comm(uint32_t id, const std::string& fallback) {
    std::string comm = read_first_line("/proc/" + std::to_string(id) + "/comm").value_or("");
    return comm.empty() ? fallback : comm;
}

class Printer {
  public:
    Printer(const CommonOptions& options, const Settings& settings, Output& out)
        : options_(options), settings_(settings), out_(out),
          unit_(options.milliseconds ? "msecs" : "usecs"), last_(monotonic_seconds()) {}

    void interval(bpf_map* hists) { print(take_histograms(hists)); }

    // One interval's histograms, as read from the map.
    void print(std::vector<KeyedHistogram> taken) {
        double now = monotonic_seconds();
        double span = now - last_;
        last_ = now;
        std::sort(taken.begin(), taken.end(),
                  [](const KeyedHistogram& a, const KeyedHistogram& b) { return a.key < b.key; });
        if (settings_.per_process || settings_.per_thread)
            for (KeyedHistogram& h : taken)
                h.comm = current_comm(h.key, h.comm);
        // Unsplit there is one histogram, so an idle interval says so too.
        if (taken.empty() && settings_.split() == RUNQLAT_ALL)
            taken.push_back({0, {}, Histogram::log2(std::vector<uint64_t>(RUNQLAT_SLOTS))});
        if (options_.format == OutputFormat::json)
            json(taken, span);
        else
            text(taken);
    }

  private:
    void text(const std::vector<KeyedHistogram>& taken) {
        std::string& b = out_.buffer();
        if (options_.time) {
            append_wall_time(b);
            b += '\n';
        }
        for (const KeyedHistogram& h : taken) {
            if (h.histogram.empty()) continue; // an idle interval prints only its time line
            switch (settings_.split()) {
            case RUNQLAT_PER_PROCESS:
                b += "pid = " + std::to_string(h.key) + " ";
                break;
            case RUNQLAT_PER_THREAD:
                b += "tid = " + std::to_string(h.key) + " ";
                break;
            case RUNQLAT_PER_PIDNS:
                b += "pidns = " + std::to_string(h.key) + "\n";
                break;
            default:
                break;
            }
            if (settings_.per_process || settings_.per_thread) {
                append_text_escaped(b, h.comm);
                b += '\n';
            }
            b += render_histogram_text(h.histogram, unit_);
            b += '\n';
            out_.end_record();
        }
    }

    void json(const std::vector<KeyedHistogram>& taken, double span) {
        std::string time = iso_time_now();
        for (const KeyedHistogram& h : taken) {
            std::string& b = out_.buffer();
            JsonObject record(b);
            record.string("type", "histogram").string("time", time).real("interval_s", span);
            switch (settings_.split()) {
            case RUNQLAT_PER_PROCESS:
                record.unsigned_number("pid", h.key).string("comm", h.comm);
                break;
            case RUNQLAT_PER_THREAD:
                record.unsigned_number("tid", h.key).string("comm", h.comm);
                break;
            case RUNQLAT_PER_PIDNS:
                record.unsigned_number("pidns", h.key);
                break;
            default:
                break;
            }
            // The histogram's own fields (unit, total, p50, ..., buckets)
            // continue this object rather than nest in it.
            std::string fields = render_histogram_json(h.histogram, unit_);
            b += ',';
            b.append(fields, 1);
            b += '\n';
            out_.end_record();
        }
    }

    const CommonOptions& options_;
    const Settings& settings_;
    Output& out_;
    std::string unit_;
    double last_;
};

// One step, so that wake-ups and switches always come from the same tier:
// the tracefs tier stamps and accounts differently from the other two.
std::vector<AttachStep> attach_steps() {
    std::vector<AttachWay> ways;
    for (auto [tier_kind, tier_prefix] :
         {std::pair{AttachKind::tp_btf, "btf_"}, std::pair{AttachKind::raw_tp, "raw_"},
          std::pair{AttachKind::tracepoint, "tp_"}}) {
        // Named copies: lambdas cannot capture structured bindings before clang 16.
        AttachKind kind = tier_kind;
        const char* prefix = tier_prefix;
        auto point = [&](const char* event, const char* program) {
            std::string target =
                kind == AttachKind::tracepoint ? std::string("sched:") + event : event;
            return AttachPoint{prefix + std::string(program), kind, target};
        };
        ways.push_back({{point("sched_wakeup", "wakeup"), point("sched_wakeup_new", "wakeup_new"),
                         point("sched_switch", "switch")}});
    }
    return {{"scheduler wake-ups and switches", std::move(ways)}};
}

} // namespace

// One map entry's bytes (key, then histogram and name) through the
// printer, for tests/fuzz (common/decoder.h); variant bits 0-1: the split
// (none, -P, -L, --pidnss).
void decode_runqlat(const CommonOptions& options, uint32_t variant, Output& out, const void* data,
                    size_t size) {
    if (size < sizeof(uint32_t) + sizeof(runqlat_hist)) return;
    uint32_t key;
    runqlat_hist value;
    std::memcpy(&key, data, sizeof key);
    std::memcpy(&value, static_cast<const char*>(data) + sizeof key, sizeof value);
    Settings settings;
    settings.per_process = (variant & 3) == 1;
    settings.per_thread = (variant & 3) == 2;
    settings.per_pidns = (variant & 3) == 3;
    Printer printer(options, settings, out);
    printer.print({{key, std::string(fixed_string(value.comm)),
                    Histogram::log2({std::begin(value.slots), std::end(value.slots)})}});
}

int runqlat(int argc, char** argv) {
    CommonOptions options;
    Settings settings;
    CommandLine cli("runqlat", "Summarize run queue (scheduler) latency as a histogram.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::time, Flag::duration,
                     Flag::milliseconds, Flag::interval});
    cli.add_switch('P', "pids", "one histogram per process", &settings.per_process);
    cli.add_switch('L', "tids", "one histogram per thread", &settings.per_thread);
    cli.add_switch(0, "pidnss", "one histogram per PID namespace", &settings.per_pidns);
    cli.set_examples("  runqlat                   one histogram, printed at Ctrl-C\n"
                     "  runqlat 1 10              ten 1-second histograms\n"
                     "  runqlat -mT 1             per second, in milliseconds, with times\n"
                     "  runqlat -P                one histogram per process\n"
                     "  runqlat -p 185            process 185 only\n"
                     "  runqlat --pidnss          one histogram per PID namespace (container)\n"
                     "  runqlat -c /sys/fs/cgroup/system.slice/nginx.service\n"
                     "  runqlat -o json 5         a JSON Lines record every 5 seconds\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    if (settings.per_process + settings.per_thread + settings.per_pidns > 1)
        throw UsageError("-P, -L and --pidnss cannot be combined: pick one way to split");

    return run_summary_tool<runqlat_bpf>(
        {.name = "runqlat",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](runqlat_bpf& skel, const AttachPlan& plan) {
                 skel.rodata->split = settings.split();
                 skel.rodata->unit_ns = options.milliseconds ? 1000000 : 1000;
                 // sched_switch(preempt, prev, next, prev_state) since 5.18; no prev_state before.
                 skel.rodata->switch_has_state =
                     KernelFeatures::instance().tracepoint_arg_count("sched_switch") >= 4;
                 // Each tier keeps its start stamps in its own map; the others'
                 // shrink to nothing (task storage is not even created: a kernel
                 // before 5.11 has none, and only the tp_btf tier can use it).
                 bool typed = plan.uses("btf_switch");
                 int err = bpf_map__set_autocreate(skel.maps.task_start, typed);
                 if (!err && typed) err = bpf_map__set_max_entries(skel.maps.start, 1);
                 if (!err && !plan.uses("tp_switch"))
                     err = bpf_map__set_max_entries(skel.maps.pending, 1);
                 if (err) throw RuntimeError(errno_message("cannot size the BPF maps", err));
             },
         .announcement = "Tracing run queue latency... Hit Ctrl-C to end."},
        [&](runqlat_bpf& skel, const AttachPlan&, Output& out) {
            return [printer = Printer(options, settings, out), hists = skel.maps.hists]() mutable {
                printer.interval(hists);
            };
        });
}

} // namespace corescope::tools
