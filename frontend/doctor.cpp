#include "doctor.h"

#include "cli.h"
#include "kernel_features.h"
#include "output.h"
#include "subprocess.h"
#include "tool.h"
#include "tool_registry.h"

#include <algorithm>
#include <cstdio>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace corescope {

namespace {

struct Capabilities {
    bool bpf = false;
    bool perfmon = false;
    bool sys_admin = false;
};

Capabilities effective_capabilities() {
    struct __user_cap_header_struct header {};
    struct __user_cap_data_struct data[2]{};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    Capabilities caps;
    if (syscall(SYS_capget, &header, data) != 0) return caps;
    auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
    caps.sys_admin = has(CAP_SYS_ADMIN);
    caps.perfmon = has(38); // CAP_PERFMON, newer than some headers
    caps.bpf = has(39);     // CAP_BPF
    return caps;
}

const AttachKind doctor_kinds[] = {
    AttachKind::tracepoint, AttachKind::tp_btf, AttachKind::raw_tp,
    AttachKind::fentry,     AttachKind::fexit,  AttachKind::kprobe,
    AttachKind::kretprobe,  AttachKind::uprobe, AttachKind::perf_event};

struct ToolCheck {
    std::string name;
    bool available;
    std::string plan_text; // "tp_btf:block_rq_issue ..." per step, joined
    std::string plan_json; // the tool's own --dry-run -o json record
    std::string reason;
};

// A step's points, cut to the first of each kind when there are more than
// a row can show (klockstat's hold times are some 50 fentry and fexit
// points): the kind is what tells the tier; --dry-run has them all.
std::string shown_points(const std::string& points) {
    constexpr size_t most_shown = 6;
    std::vector<std::string> all;
    for (size_t at = 0; at < points.size();) {
        size_t space = std::min(points.find(' ', at), points.size());
        if (space > at) all.push_back(points.substr(at, space - at));
        at = space + 1;
    }
    if (all.size() <= most_shown) return points;
    std::string kept;
    std::vector<std::string> kinds;
    for (const auto& point : all) {
        std::string kind = point.substr(0, point.find(':'));
        if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) continue;
        kinds.push_back(kind);
        kept += (kept.empty() ? "" : " ") + point;
    }
    return kept + " (and " + std::to_string(all.size() - kinds.size()) + " more)";
}

// One dry run of the tool, in the format the report is printed in: JSON
// keeps the tool's own plan record, text the chosen ways of its text plan.
ToolCheck check_tool(const ToolEntry& tool, OutputFormat format) {
    ToolCheck check{std::string(tool.name), false, "", "", ""};
    std::vector<std::string> argv = {std::string(tool.name), "--dry-run"};
    if (format == OutputFormat::json) argv.insert(argv.end(), {"-o", "json"});
    ChildResult dry_run = run_self(argv, 20000);
    if (dry_run.exit_code != 0) {
        std::string err = dry_run.err;
        // The tool's own one-line reason, without its name prefix.
        std::string prefix = check.name + ": ";
        if (err.rfind(prefix, 0) == 0) err = err.substr(prefix.size());
        if (auto nl = err.find('\n'); nl != std::string::npos) err.resize(nl);
        check.reason = err.empty()
                           ? "dry run failed with exit code " + std::to_string(dry_run.exit_code)
                           : err;
        return check;
    }
    check.available = true;
    if (format == OutputFormat::json) {
        check.plan_json = dry_run.out;
        while (!check.plan_json.empty() && check.plan_json.back() == '\n')
            check.plan_json.pop_back();
        return check;
    }
    const std::string& text = dry_run.out;
    // Lines 2.. of the text plan: "  what: kind:target ..."; keep the chosen ways.
    std::string plan;
    size_t start = text.find('\n');
    while (start != std::string::npos && start + 1 < text.size()) {
        size_t end = text.find('\n', start + 1);
        std::string line =
            text.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
        if (line.rfind("    ", 0) != 0) {
            auto colon = line.find(": ");
            std::string points = colon == std::string::npos ? line : line.substr(colon + 2);
            // A step this kernel offers no way for ("  lock hold times:",
            // klockstat's): named, with the reasons the plan gives.
            if (colon == std::string::npos && line.size() > 3 && line.back() == ':') {
                points = line.substr(2, line.size() - 3) + " not traced (";
                std::string reasons;
                for (size_t at = end; at != std::string::npos && at + 1 < text.size();) {
                    size_t stop = text.find('\n', at + 1);
                    std::string sub = text.substr(
                        at + 1, stop == std::string::npos ? std::string::npos : stop - at - 1);
                    if (sub.rfind("    passed over ", 0) != 0) {
                        if (sub.rfind("    ", 0) != 0) break;
                    } else {
                        reasons += (reasons.empty() ? "" : "; ") + sub.substr(16);
                    }
                    at = stop;
                }
                points += reasons + ")";
            } else {
                points = shown_points(points);
            }
            plan += (plan.empty() ? "" : "; ") + points;
        }
        start = end;
    }
    // A tool that loads no BPF (tplist) says what it reads instead of a plan.
    if (plan.empty() && text.find("nothing to attach") != std::string::npos) {
        auto open = text.find("(it ");
        auto close = text.find(';', open);
        if (open != std::string::npos && close != std::string::npos)
            plan = "no BPF: " + text.substr(open + 4, close - open - 4);
    }
    check.plan_text = plan;
    return check;
}

} // namespace

int doctor(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("corescope doctor",
                    "Show what this kernel and this process can do, and which tools can run here.",
                    {});
    std::vector<const ToolEntry*> checked; // empty: every tool
    cli.set_positional("TOOLS", "check only these tools (comma-separated; default: every tool)",
                       [&](std::string_view list) {
                           size_t start = 0;
                           while (start <= list.size()) {
                               size_t comma = std::min(list.find(',', start), list.size());
                               std::string_view name = list.substr(start, comma - start);
                               const ToolEntry* tool = find_tool(name);
                               if (!tool)
                                   throw UsageError("unknown tool '" + std::string(name) +
                                                    "' (corescope list shows every tool)");
                               checked.push_back(tool);
                               start = comma + 1;
                           }
                       });
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;
    setup_libbpf_logging(options.verbose);

    KernelFeatures& features = KernelFeatures::instance();
    struct utsname uts {};
    uname(&uts);
    std::string why_not_permitted;
    bool permitted = features.bpf_permitted(&why_not_permitted);
    Capabilities caps = effective_capabilities();
    bool btf = features.btf();
    std::string tracefs = features.tracefs_path();
    bool ringbuf = permitted && features.ringbuf();

    Output out;
    std::string& b = out.buffer();
    std::vector<std::pair<AttachKind, std::pair<bool, std::string>>> kinds;
    for (AttachKind kind : doctor_kinds) {
        std::string why;
        bool ok = permitted && features.supports(kind, &why);
        if (!permitted) why = "BPF not permitted";
        kinds.push_back({kind, {ok, why}});
    }
    std::vector<ToolCheck> tools;
    if (checked.empty())
        for (const ToolEntry& tool : all_tools())
            checked.push_back(&tool);
    for (const ToolEntry* tool : checked)
        tools.push_back(check_tool(*tool, options.format));

    if (options.format == OutputFormat::json) {
        std::string attach = "{";
        for (size_t i = 0; i < kinds.size(); i++) {
            if (i) attach += ',';
            append_json_string(attach, attach_kind_name(kinds[i].first));
            attach += ':';
            JsonObject o(attach);
            o.boolean("supported", kinds[i].second.first);
            if (!kinds[i].second.first) o.string("reason", kinds[i].second.second);
            o.end();
        }
        attach += '}';
        std::string tool_list = "[";
        for (size_t i = 0; i < tools.size(); i++) {
            if (i) tool_list += ',';
            JsonObject o(tool_list);
            o.string("tool", tools[i].name).boolean("available", tools[i].available);
            if (tools[i].available)
                o.raw("plan", tools[i].plan_json);
            else
                o.string("reason", tools[i].reason);
            o.end();
        }
        tool_list += ']';
        JsonObject(b)
            .string("type", "doctor")
            .string("kernel_release", uts.release)
            .string("machine", uts.machine)
            .boolean("btf", btf)
            .boolean("tracefs", !tracefs.empty())
            .string("tracefs_path", tracefs)
            .string("lockdown", features.lockdown())
            .number("euid", geteuid())
            .boolean("cap_bpf", caps.bpf)
            .boolean("cap_perfmon", caps.perfmon)
            .boolean("cap_sys_admin", caps.sys_admin)
            .boolean("bpf_permitted", permitted)
            .boolean("ringbuf", ringbuf)
            .raw("attach_types", attach)
            .raw("tools", tool_list)
            .end_line();
        out.flush();
        return exit_ok;
    }

    auto row = [&](const std::string& label, const std::string& value) {
        append_padded(b, label, 14);
        b += value + "\n";
    };
    row("kernel", std::string(uts.release) + " (" + uts.machine + ")");
    row("BTF", btf ? "yes (/sys/kernel/btf/vmlinux)"
                   : "no: CO-RE needs a kernel built with CONFIG_DEBUG_INFO_BTF");
    row("tracefs", tracefs.empty() ? "not mounted: mount -t tracefs tracefs /sys/kernel/tracing"
                                   : "yes (" + tracefs + ")");
    row("lockdown", features.lockdown());
    row("privileges", std::string(geteuid() == 0 ? "root" : "uid " + std::to_string(geteuid())) +
                          (caps.bpf ? ", CAP_BPF" : "") + (caps.perfmon ? ", CAP_PERFMON" : "") +
                          (caps.sys_admin ? ", CAP_SYS_ADMIN" : "") + "; BPF " +
                          (permitted ? "permitted" : "not permitted: " + why_not_permitted));
    row("ring buffer", ringbuf ? "yes" : "no (perf buffer fallback)");
    b += "attach types:\n";
    for (auto& [kind, result] : kinds) {
        b += "  ";
        append_padded(b, attach_kind_name(kind), 12);
        b += result.first ? "yes\n" : "no: " + result.second + "\n";
    }
    b += "tools:\n";
    for (const ToolCheck& t : tools) {
        b += "  ";
        append_padded(b, t.name, 15);
        b += t.available ? "available: " + t.plan_text + "\n" : "unavailable: " + t.reason + "\n";
    }
    out.flush();
    return exit_ok;
}

} // namespace corescope
