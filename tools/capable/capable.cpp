// capable: trace every capability check the kernel makes, with its result
// and, where the hook passes the check's options, whether it is audited.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "capable.skel.h"
#include "capable/capable.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace corescope::tools {

namespace {

// The capabilities' names, by number (include/uapi/linux/capability.h).
const char* const capability_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int known_capabilities = sizeof capability_names / sizeof capability_names[0];

// A capability's name; one newer than this table as "CAP_42".
std::string capability_name(int cap) {
    if (cap >= 0 && cap < known_capabilities) return capability_names[cap];
    return "CAP_" + std::to_string(cap);
}

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("cap", "CAP", 4, Align::right),
                 column("cap_name", "NAME", 22), json_field("audit"),
                 text_column("AUDIT", 5, Align::right), json_field("insetid"),
                 column("verdict", "VERDICT", 0), json_field("ret")}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<capable_event>(data, size);
        if (!event) return;
        capable_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        r.number(e.cap).lazy([&] { return capability_name(e.cap); });
        // The tracepoint does not say whether the check is audited.
        if (e.opts_known == CAPABLE_OPTS_KNOWN)
            r.boolean(e.audit != 0).number(e.audit ? 1 : 0).boolean(e.insetid != 0);
        else
            r.null().null().null();
        r.text(e.ret == 0 ? "allow" : "deny").number(e.ret);
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {{"capability checks",
             {{{{"fexit_cap_capable", AttachKind::fexit, "cap_capable"}}},
              {{{"kprobe_cap_capable", AttachKind::kprobe, "cap_capable"},
                {"kretprobe_cap_capable", AttachKind::kretprobe, "cap_capable"}}},
              {{{"btf_cap_capable", AttachKind::tp_btf, "cap_capable"}}},
              {{{"raw_cap_capable", AttachKind::raw_tp, "cap_capable"}}},
              {{{"tp_cap_capable", AttachKind::tracepoint, "capability:cap_capable"}}}}}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_capable(const CommonOptions& options, uint32_t, Output& out,
                    std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int capable(int argc, char** argv) {
    CommonOptions options;
    bool all_checks = false;
    CommandLine cli("capable", "Trace capability checks: process, capability, audit, verdict.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.add_switch(0, "all",
                   "also granted checks the kernel does not audit (bcc's -v; hidden by default)",
                   &all_checks);
    cli.set_examples("  capable                   every audited or refused check\n"
                     "  capable -x                only refused checks\n"
                     "  capable --all             every check, audited or not\n"
                     "  capable -p 181 -T         process 181, with times\n"
                     "  capable -o json -d 60     a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<capable_bpf>(
        {.name = "capable",
         .options = options,
         .attach_steps = attach_steps,
         .configure = [&](capable_bpf& skel,
                          const AttachPlan&) { skel.rodata->all_checks = all_checks; },
         .announcement = "Tracing capability checks... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
