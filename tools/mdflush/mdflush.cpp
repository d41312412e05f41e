// mdflush: flushes of md (software RAID) devices: when, who, which device.
#include "decoder.h"
#include "errors.h"
#include "event_fields.h"
#include "run.h"
#include "text_file.h"

#include <linux/types.h>
#include "mdflush.skel.h"
#include "mdflush/mdflush.h"

#include <sys/utsname.h>
#include <unistd.h>

namespace corescope::tools {

namespace {

struct Printer {
    // bcc's columns: TIME (always), PID, COMM, DEVICE.
    RecordLayout layout() const {
        return {task_all,
                {time_column(), pid_column(), comm_column(), column("device", "DEVICE", 0),
                 json_field("major"), json_field("minor")},
                true,
                false};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<mdflush_event>(data, size);
        if (!e) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        r.text(fixed_string(e->disk)).number(e->major).number(e->minor).end();
    }
};

// md's block majors from /proc/devices: "md" and "mdp" (0 where absent).
struct MdMajors {
    uint32_t md = 0, mdp = 0;
};

MdMajors md_majors(const std::string& devices = "/proc/devices") {
    MdMajors m;
    std::optional<std::string> text = read_text_file(devices);
    if (!text) return m;
    bool block = false;
    for (std::string_view line : split_lines(*text)) {
        if (line.starts_with("Block devices:")) block = true;
        std::vector<std::string_view> w = split_words(line);
        if (!block || w.size() != 2) continue;
        uint32_t major =
            static_cast<uint32_t>(std::strtoul(std::string(w[0]).c_str(), nullptr, 10));
        if (w[1] == "md") m.md = major;
        if (w[1] == "mdp") m.mdp = major;
    }
    return m;
}

// Why this kernel has no md, in one line, or empty when it has: md
// registers its "md" block major when it is built in or md_mod is loaded.
std::string md_missing(const MdMajors& majors) {
    if (majors.md) return {};
    struct utsname u;
    std::string modules = uname(&u) == 0 ? std::string("/lib/modules/") + u.release : "";
    bool loaded = access("/sys/module/md_mod", F_OK) == 0;
    bool module_here = !modules.empty() &&
                       read_text_file(modules + "/modules.dep").value_or("").find("/md-mod.ko") !=
                           std::string::npos;
    if (loaded)
        return "md_mod is loaded but /proc/devices has no 'md' block device: no md device to "
               "trace";
    if (module_here)
        return "no md (software RAID) driver loaded: no 'md' block device in /proc/devices, no "
               "/sys/module/md_mod (modprobe md_mod loads it)";
    return "this kernel has no md (software RAID) driver: no 'md' block device in /proc/devices, "
           "no /sys/module/md_mod, no md-mod module in " +
           modules + " (CONFIG_BLK_DEV_MD off)";
}

std::vector<AttachStep> attach_steps() {
    MdMajors majors = md_majors();
    std::string missing = md_missing(majors);
    if (!missing.empty()) throw RuntimeError(missing);
    // md's own entry point for a flush, in md_mod where md is a module.
    AttachStep step = function_tiers("md flushes", {{"md_flush_request"}});
    // Block I/O: a preflush queued on an md device.
    AttachStep bio = tracepoint_tiers("md flushes", {{"bio_queue", "block:block_bio_queue"}},
                                      {AttachKind::tp_btf, AttachKind::raw_tp});
    for (AttachWay& way : bio.ways)
        step.ways.push_back(std::move(way));
    return {step};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_mdflush(const CommonOptions& options, uint32_t, Output& out,
                    std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int mdflush(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("mdflush", "Trace flushes of md (software RAID) devices.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::print_uid,
                     Flag::duration});
    cli.set_examples("  mdflush                   every md flush\n"
                     "  mdflush -o json -d 60     a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<mdflush_bpf>(
        {.name = "mdflush",
         .options = options,
         .attach_steps = attach_steps,
         .configure =
             [&](mdflush_bpf& skel, const AttachPlan&) {
                 MdMajors majors = md_majors();
                 skel.rodata->md_major = majors.md;
                 skel.rodata->mdp_major = majors.mdp;
             },
         .announcement = "Tracing md flush events... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
