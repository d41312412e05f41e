#include "attach_plan.h"
#include "text_file.h"

#include <system_error>
#include <thread>

#include "errors.h"
#include "fd.h"
#include "output.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <linux/perf_event.h>
#include <stdexcept>
#include <sys/syscall.h>
#include <unistd.h>

namespace corescope {

std::vector<int> parse_cpu_list(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    auto number = [&](std::string_view part) {
        int value = -1;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (ec != std::errc() || end != part.data() + part.size() || value < 0)
            throw std::invalid_argument("invalid CPU list '" + std::string(text) + "'");
        return value;
    };
    std::vector<int> cpus;
    if (text.empty()) throw std::invalid_argument("empty CPU list");
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        std::string_view part =
            text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        size_t dash = part.find('-');
        int first = number(part.substr(0, dash));
        int last = dash == std::string_view::npos ? first : number(part.substr(dash + 1));
        if (last < first)
            throw std::invalid_argument("invalid CPU list '" + std::string(text) + "'");
        for (int cpu = first; cpu <= last; cpu++)
            cpus.push_back(cpu);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return cpus;
}

std::vector<int> online_cpus() {
    std::optional<std::string> text = read_first_line("/sys/devices/system/cpu/online");
    if (!text) throw RuntimeError("cannot read /sys/devices/system/cpu/online: is sysfs mounted?");
    try {
        return parse_cpu_list(*text);
    } catch (const std::invalid_argument& e) {
        throw RuntimeError(std::string("/sys/devices/system/cpu/online: ") + e.what());
    }
}

namespace {

// Opens the plan's perf event on each CPU and attaches the program to it;
// each link then owns its event (destroying the link closes the fd).
void attach_perf_events(bpf_program* prog, const AttachPoint& point, Links& links) {
    const PerfEventSpec& spec = point.perf_event;
    std::vector<int> cpus = spec.cpus.empty() ? online_cpus() : spec.cpus;
    for (int cpu : cpus) {
        struct perf_event_attr attr {};
        attr.size = sizeof attr;
        attr.type = spec.type;
        attr.config = spec.config;
        if (spec.frequency) {
            attr.freq = 1;
            attr.sample_freq = spec.frequency;
        } else {
            attr.sample_period = spec.period;
        }
        FileDescriptor fd(static_cast<int>(
            syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC)));
        if (!fd.valid()) {
            // A CPU that went offline since we listed them has nothing to sample.
            if (errno == ENODEV && spec.cpus.empty()) continue;
            throw RuntimeError(errno_message("cannot open the " + point.target +
                                                 " perf event on CPU " + std::to_string(cpu),
                                             errno));
        }
        errno = 0;
        struct bpf_link* link = bpf_program__attach_perf_event(prog, fd.get());
        if (link == nullptr) {
            int err = errno ? errno : EINVAL;
            throw RuntimeError(errno_message("cannot attach perf_event " + point.target +
                                                 " on CPU " + std::to_string(cpu),
                                             err));
        }
        fd.release(); // the link owns it now
        links.add(link);
    }
}

} // namespace

Links::~Links() {
    // Each detach waits out an RCU grace period in the kernel; for syscall
    // tracepoints on recent kernels (tasks-trace RCU) that is 50-90 ms, so
    // opensnoop's eight links, detached one after another, held its exit
    // for half a second. Detached all at once, the waits overlap.
    if (links_.size() < 2) {
        for (bpf_link* link : links_)
            bpf_link__destroy(link);
        return;
    }
    std::vector<std::thread> detaching;
    for (auto it = links_.rbegin(); it != links_.rend(); ++it) {
        try {
            detaching.emplace_back(bpf_link__destroy, *it);
        } catch (const std::system_error&) {
            bpf_link__destroy(*it); // no thread to be had: detach it here
        }
    }
    for (std::thread& t : detaching)
        t.join();
}

AttachStep syscall_tiers(std::string what, const std::vector<SyscallProgram>& calls,
                         bool raw_enter_too) {
    AttachWay tracepoints, raw;
    bool enter = raw_enter_too, exit = false;
    for (const SyscallProgram& c : calls) {
        if (c.enter)
            tracepoints.points.push_back({"tp_enter_" + c.call, AttachKind::tracepoint,
                                          "syscalls:sys_enter_" + c.call, c.optional});
        if (c.exit)
            tracepoints.points.push_back({"tp_exit_" + c.call, AttachKind::tracepoint,
                                          "syscalls:sys_exit_" + c.call, c.optional});
        enter = enter || c.enter;
        exit = exit || c.exit;
    }
    if (enter) raw.points.push_back({"raw_enter", AttachKind::raw_tp, "sys_enter"});
    if (exit) raw.points.push_back({"raw_exit", AttachKind::raw_tp, "sys_exit"});
    return {std::move(what), {std::move(tracepoints), std::move(raw)}};
}

AttachStep tracepoint_tiers(std::string what, const std::vector<TracepointProgram>& programs,
                            std::vector<AttachKind> kinds) {
    AttachStep step{std::move(what), {}};
    for (AttachKind kind : kinds) {
        const char* prefix = kind == AttachKind::tp_btf   ? "btf_"
                             : kind == AttachKind::raw_tp ? "raw_"
                                                          : "tp_";
        AttachWay way;
        for (const TracepointProgram& p : programs) {
            std::string target = p.tracepoint;
            if (kind != AttachKind::tracepoint) target = target.substr(target.find(':') + 1);
            way.points.push_back({prefix + p.program, kind, target, p.optional});
        }
        step.ways.push_back(std::move(way));
    }
    return step;
}

AttachStep function_tiers(std::string what, const std::vector<FunctionProgram>& functions) {
    AttachWay fentry, kprobe;
    for (const FunctionProgram& f : functions) {
        const std::string& name = f.function;
        const std::string& program = f.programs.empty() ? name : f.programs;
        if (f.entry) {
            fentry.points.push_back({"fentry_" + program, AttachKind::fentry, name, f.optional});
            kprobe.points.push_back({"kprobe_" + program, AttachKind::kprobe, name, f.optional});
        }
        if (f.exit) {
            fentry.points.push_back({"fexit_" + program, AttachKind::fexit, name, f.optional});
            kprobe.points.push_back(
                {"kretprobe_" + program, AttachKind::kretprobe, name, f.optional});
        }
    }
    return {std::move(what), {std::move(fentry), std::move(kprobe)}};
}

namespace {

// The first way of step this kernel has, into choice.points; each way
// passed over, with why, into choice.passed_over. False when none is left.
bool choose_way(const AttachStep& step, FeatureSource& features, AttachPlan::Choice& choice) {
    choice.what = step.what;
    for (const AttachWay& way : step.ways) {
        std::string why_not;
        std::vector<AttachPoint> usable;
        for (const AttachPoint& point : way.points) {
            std::string reason;
            if (!features.supports(point.kind, &reason)) {
                why_not = std::string(attach_kind_name(point.kind)) + ": " + reason;
                break;
            }
            if (!features.has_target(point.kind, point.target)) {
                if (point.optional) continue;
                why_not =
                    std::string(attach_kind_name(point.kind)) + ": kernel has no " + point.target;
                break;
            }
            usable.push_back(point);
        }
        if (why_not.empty() && usable.empty()) why_not = "no target of this way exists";
        if (!why_not.empty()) {
            choice.passed_over.push_back(why_not);
            continue;
        }
        choice.points = std::move(usable);
        return true;
    }
    return false;
}

std::string no_way_message(const AttachPlan::Choice& choice) {
    std::string reasons;
    for (const std::string& r : choice.passed_over)
        reasons += (reasons.empty() ? "" : "; ") + r;
    return "this kernel offers no way to trace " + choice.what + " (" + reasons + ")";
}

} // namespace

AttachPlan AttachPlan::choose(const std::string& tool, const std::vector<AttachStep>& steps,
                              FeatureSource& features) {
    AttachPlan plan;
    plan.tool_ = tool;
    for (const AttachStep& step : steps)
        for (const AttachWay& way : step.ways)
            for (const AttachPoint& point : way.points)
                plan.named_programs_.push_back(point.program);
    for (const AttachStep& step : steps) {
        Choice choice;
        if (!choose_way(step, features, choice)) throw RuntimeError(no_way_message(choice));
        plan.choices_.push_back(std::move(choice));
    }
    return plan;
}

AttachPlan AttachPlan::choose_available(const std::string& tool,
                                        const std::vector<AttachStep>& steps,
                                        FeatureSource& features,
                                        std::vector<std::string>& unavailable) {
    AttachPlan plan;
    plan.tool_ = tool;
    for (const AttachStep& step : steps) {
        for (const AttachWay& way : step.ways)
            for (const AttachPoint& point : way.points)
                plan.named_programs_.push_back(point.program);
        Choice choice;
        if (choose_way(step, features, choice)) {
            plan.choices_.push_back(std::move(choice));
        } else {
            unavailable.push_back(step.what + ": " + no_way_message(choice));
            plan.missing_.push_back(std::move(choice));
        }
    }
    return plan;
}

bool AttachPlan::has_step(const std::string& what) const {
    for (const Choice& c : choices_)
        if (c.what == what) return true;
    return false;
}

bool AttachPlan::uses(const std::string& program) const {
    for (const Choice& c : choices_)
        for (const AttachPoint& p : c.points)
            if (p.program == program) return true;
    return false;
}

void AttachPlan::apply(bpf_object* object) const {
    for (const std::string& name : named_programs_)
        if (bpf_object__find_program_by_name(object, name.c_str()) == nullptr)
            throw RuntimeError("internal error: the attach plan names BPF program " + name +
                               ", which " + tool_ + "'s BPF object does not have");
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, object) {
        bpf_program__set_autoload(prog, uses(bpf_program__name(prog)));
    }
    // A chosen fentry or fexit program whose section names no function
    // (SEC("fentry"): ksnoop's, the function given at run time) is bound to
    // its target here, before load, as the verifier needs.
    for (const Choice& c : choices_)
        for (const AttachPoint& p : c.points) {
            if (p.kind != AttachKind::fentry && p.kind != AttachKind::fexit) continue;
            prog = bpf_object__find_program_by_name(object, p.program.c_str());
            std::string_view section = bpf_program__section_name(prog);
            if (section != "fentry" && section != "fexit") continue;
            if (int err = bpf_program__set_attach_target(prog, 0, p.target.c_str()); err != 0)
                throw RuntimeError(
                    errno_message("cannot bind " + p.program + " to " + p.target, -err));
        }
}

namespace {

// Attaches one point's program, adding its links; throws RuntimeError.
void attach_point(bpf_object* object, const AttachPoint& p, Links& links) {
    struct bpf_program* prog = bpf_object__find_program_by_name(object, p.program.c_str());
    if (prog == nullptr) throw RuntimeError("internal error: no BPF program named " + p.program);
    if (p.kind == AttachKind::perf_event) {
        attach_perf_events(prog, p, links);
        return;
    }
    errno = 0;
    struct bpf_link* link = nullptr;
    auto colon = p.target.rfind(':');
    const char* section = bpf_program__section_name(prog);
    bool untargeted = section && std::strchr(section, '/') == nullptr;
    if (p.kind == AttachKind::usdt) {
        // "BINARY:PROVIDER:NAME": every site of the probe, all processes.
        auto first = p.target.find(':');
        auto second = p.target.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos)
            throw RuntimeError("internal error: USDT target " + p.target);
        std::string binary = p.target.substr(0, first);
        std::string provider = p.target.substr(first + 1, second - first - 1);
        std::string name = p.target.substr(second + 1);
        LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = p.cookie);
        link = bpf_program__attach_usdt(prog, -1, binary.c_str(), provider.c_str(), name.c_str(),
                                        &opts);
    } else if (untargeted && p.kind == AttachKind::tracepoint && colon != std::string::npos) {
        LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = p.cookie);
        link = bpf_program__attach_tracepoint_opts(prog, p.target.substr(0, colon).c_str(),
                                                   p.target.substr(colon + 1).c_str(), &opts);
    } else if (untargeted && (p.kind == AttachKind::kprobe || p.kind == AttachKind::kretprobe)) {
        LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = p.cookie,
                    .retprobe = p.kind == AttachKind::kretprobe);
        link = bpf_program__attach_kprobe_opts(prog, p.target.c_str(), &opts);
    } else if ((p.kind == AttachKind::uprobe || p.kind == AttachKind::uretprobe) &&
               colon != std::string::npos) {
        // "BINARY:FUNCTION", chosen at run time (a SEC("uprobe") without
        // a target cannot auto-attach): all processes, by symbol name.
        // "BINARY:0xOFFSET" names the file offset itself (a symbol that
        // libbpf cannot pick among its versioned names).
        std::string binary = p.target.substr(0, colon);
        std::string func = p.target.substr(colon + 1);
        bool offset = func.rfind("0x", 0) == 0;
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = p.cookie,
                    .retprobe = p.kind == AttachKind::uretprobe,
                    .func_name = offset ? nullptr : func.c_str());
        link = bpf_program__attach_uprobe_opts(prog, p.pid, binary.c_str(),
                                               offset ? std::stoull(func, nullptr, 16) : 0, &opts);
    } else if ((p.kind == AttachKind::kprobe || p.kind == AttachKind::kretprobe) &&
               (std::string_view(bpf_program__section_name(prog)) == "kprobe" ||
                std::string_view(bpf_program__section_name(prog)) == "kretprobe")) {
        // SEC("kprobe") without a function (ksnoop's, given at run time):
        // the plan's target is the function.
        link = bpf_program__attach_kprobe(prog, p.kind == AttachKind::kretprobe, p.target.c_str());
    } else {
        link = bpf_program__attach(prog);
    }
    if (link == nullptr) {
        int err = errno ? errno : EINVAL;
        throw RuntimeError(errno_message(
            std::string("cannot attach ") + attach_kind_name(p.kind) + " " + p.target, err));
    }
    links.add(link);
}

} // namespace

Links AttachPlan::attach(bpf_object* object) const {
    Links links;
    for (const Choice& c : choices_)
        for (const AttachPoint& p : c.points)
            attach_point(object, p, links);
    return links;
}

Links AttachPlan::attach_available(bpf_object* object,
                                   std::vector<std::string>& unavailable) const {
    Links links;
    for (const Choice& c : choices_) {
        Links step;
        try {
            for (const AttachPoint& p : c.points)
                attach_point(object, p, step);
        } catch (const RuntimeError& e) {
            unavailable.push_back(c.what + ": " + e.what());
            continue; // the step's links so far go with it
        }
        links.take(std::move(step));
    }
    return links;
}

std::string AttachPlan::describe() const {
    std::string out = tool_ + ": attach plan\n";
    for (const Choice& c : choices_) {
        out += "  " + c.what + ":";
        for (const AttachPoint& p : c.points)
            out += std::string(" ") + attach_kind_name(p.kind) + ":" + p.target;
        out += "\n";
        for (const std::string& r : c.passed_over)
            out += "    passed over " + r + "\n";
    }
    // A step left out: its line names no attach point (so a reader that
    // counts the points, as the kernel matrix's checks do, counts none).
    for (const Choice& c : missing_) {
        out += "  " + c.what + ":\n";
        out += "    not traced: this kernel offers no way\n";
        for (const std::string& r : c.passed_over)
            out += "    passed over " + r + "\n";
    }
    return out;
}

std::string AttachPlan::describe_json() const {
    std::string steps = "[";
    for (size_t i = 0; i < choices_.size(); i++) {
        const Choice& c = choices_[i];
        std::string points = "[";
        for (size_t j = 0; j < c.points.size(); j++) {
            if (j) points += ',';
            JsonObject(points)
                .string("kind", attach_kind_name(c.points[j].kind))
                .string("target", c.points[j].target)
                .string("program", c.points[j].program)
                .end();
        }
        points += ']';
        std::string passed = "[";
        for (size_t j = 0; j < c.passed_over.size(); j++) {
            if (j) passed += ',';
            append_json_string(passed, c.passed_over[j]);
        }
        passed += ']';
        if (i) steps += ',';
        JsonObject(steps)
            .string("what", c.what)
            .raw("attach", points)
            .raw("passed_over", passed)
            .end();
    }
    steps += ']';
    std::string out;
    JsonObject plan(out);
    plan.string("type", "attach_plan").string("tool", tool_).raw("steps", steps);
    // Steps left out (choose_available): what, and each way passed over.
    if (!missing_.empty()) {
        std::string missing = "[";
        for (size_t i = 0; i < missing_.size(); i++) {
            std::string passed = "[";
            for (size_t j = 0; j < missing_[i].passed_over.size(); j++) {
                if (j) passed += ',';
                append_json_string(passed, missing_[i].passed_over[j]);
            }
            passed += ']';
            if (i) missing += ',';
            JsonObject(missing).string("what", missing_[i].what).raw("passed_over", passed).end();
        }
        missing += ']';
        plan.raw("not_traced", missing);
    }
    plan.end_line();
    return out;
}

} // namespace corescope
