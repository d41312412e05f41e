// mountsnoop: trace mount(), umount2() and the new mount API (fsopen,
// fsconfig, fsmount, move_mount, open_tree, fspick, mount_setattr), with
// their arguments, result and latency.
#include "decoder.h"
#include "errors.h"
#include "event_fields.h"
#include "flag_names.h"
#include "run.h"

#include <linux/types.h>
#include "mountsnoop/mountsnoop.h"
#include "mountsnoop.skel.h"

namespace corescope::tools {

namespace {

constexpr uint64_t ms_magic_mask = 0xffff0000, ms_magic = 0xc0ed0000; // MS_MGC_VAL
constexpr int at_fdcwd = -100;

// Each call's name, where its flags argument is and its flags' names (a
// function: the name tables are another file's statics); fsconfig has no flags.
struct Call {
    const char* name;
    int flags_arg;
    std::span<const FlagName> flag_names;
};
const Call& call_of(uint32_t call) {
    static const Call calls[MOUNTSNOOP_CALLS] = {{"mount", 3, mount_flags},
                                                 {"umount2", 1, umount_flags},
                                                 {"fsopen", 1, fsopen_flags},
                                                 {"fsconfig", 0, {}},
                                                 {"fsmount", 1, fsmount_flags},
                                                 {"move_mount", 4, move_mount_flags},
                                                 {"open_tree", 2, open_tree_flags},
                                                 {"fspick", 2, fspick_flags},
                                                 {"mount_setattr", 2, mount_setattr_flags}};
    return calls[call % MOUNTSNOOP_CALLS];
}

// The flags argument's value, for JSON.
uint64_t flags_value(const mountsnoop_event& e) {
    uint64_t v = e.args[call_of(e.call).flags_arg];
    return e.call == MOUNTSNOOP_MOUNT ? v : v & 0xffffffff;
}

// The names of a call's flags argument; empty for a call without one.
std::string flags_of(const mountsnoop_event& e) {
    if (e.call == MOUNTSNOOP_FSCONFIG) return {};
    uint64_t flags = flags_value(e);
    if (e.call == MOUNTSNOOP_MOUNT && (flags & ms_magic_mask) == ms_magic)
        flags &= ~ms_magic_mask; // pre-2.4 callers
    return flag_names(flags, call_of(e.call).flag_names);
}

// The call as strace would write it, its strings escaped: mount("none",
// "/mnt", "tmpfs", MS_NOSUID, "size=1m") = 0, or = -1 ENODEV.
std::string call_line(const mountsnoop_event& e) {
    const __u64* a = e.args;
    auto str = [&](std::string_view value, uint32_t bit) {
        return (e.has & bit) ? "\"" + text_escaped(value) + "\"" : "NULL";
    };
    std::string source = str(fixed_string(e.source), MOUNTSNOOP_HAS_SOURCE);
    std::string target = str(fixed_string(e.target), MOUNTSNOOP_HAS_TARGET);
    std::string name = str(fixed_string(e.name), MOUNTSNOOP_HAS_NAME);
    auto fd = [](uint64_t v) {
        int fd = static_cast<int32_t>(v);
        return fd == at_fdcwd ? std::string("AT_FDCWD") : std::to_string(fd);
    };
    std::string args;
    switch (e.call) {
    case MOUNTSNOOP_MOUNT:
        args = source + ", " + target + ", " + name + ", " + flags_of(e) + ", " +
               str(fixed_string(e.data), MOUNTSNOOP_HAS_DATA);
        break;
    case MOUNTSNOOP_UMOUNT2:
    case MOUNTSNOOP_FSOPEN:
        args = (e.call == MOUNTSNOOP_FSOPEN ? name : target) + ", " + flags_of(e);
        break;
    case MOUNTSNOOP_FSCONFIG:
        args = fd(a[0]) + ", " + fsconfig_command_name(a[1]) + ", " + name + ", " +
               ((e.has & MOUNTSNOOP_HAS_SOURCE) ? source
                : a[3]                          ? "..."
                                                : "NULL") +
               ", " + std::to_string(static_cast<int32_t>(a[4]));
        break;
    case MOUNTSNOOP_FSMOUNT:
        args =
            fd(a[0]) + ", " + flags_of(e) + ", " + flag_names(a[2] & 0xffffffff, mount_attr_flags);
        break;
    case MOUNTSNOOP_MOVE_MOUNT:
        args = fd(a[0]) + ", " + source + ", " + fd(a[2]) + ", " + target + ", " + flags_of(e);
        break;
    case MOUNTSNOOP_OPEN_TREE:
    case MOUNTSNOOP_FSPICK:
        args = fd(a[0]) + ", " + target + ", " + flags_of(e);
        break;
    case MOUNTSNOOP_MOUNT_SETATTR:
        args = fd(a[0]) + ", " + target + ", " + flags_of(e) + ", ";
        if (e.has & MOUNTSNOOP_HAS_ATTR)
            args += "{attr_set=" + flag_names(e.attr_set, mount_attr_flags) +
                    ", attr_clr=" + flag_names(e.attr_clr, mount_attr_flags) +
                    ", propagation=" + flag_names(e.propagation, mount_flags) + "}";
        else
            args += "NULL";
        break;
    }
    std::string line = std::string(call_of(e.call).name) + "(" + args + ") = ";
    if (e.ret >= 0) return line + std::to_string(e.ret);
    return line + "-1 " + errno_name(errno_of_return(e.ret));
}

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(),
                 comm_column(),
                 json_field("call"),
                 json_field("ret"),
                 json_field("errno"),
                 column("mnt_ns", "MNT_NS", 10),
                 with_text_decimals(3, column("latency_ms", "LAT(ms)", 8, Align::right)),
                 json_field("fd"),
                 json_field("dirfd"),
                 json_field("from_dirfd"),
                 json_field("source"),
                 json_field("to_dirfd"),
                 json_field("target"),
                 json_field("path"),
                 json_field("fstype"),
                 json_field("cmd"),
                 json_field("key"),
                 json_field("value"),
                 json_field("aux"),
                 json_field("flags"),
                 json_field("flag_names"),
                 json_field("attr_set"),
                 json_field("attr_clr"),
                 json_field("propagation"),
                 json_field("data"),
                 text_column("CALL", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<mountsnoop_event>(data, size);
        if (!e || e->call >= MOUNTSNOOP_CALLS) return;
        Record r = records.begin(task_of(*e));
        if (!r) return;
        uint32_t call = e->call;
        const __u64* a = e->args;
        auto is = [&](std::initializer_list<uint32_t> calls) {
            for (uint32_t c : calls)
                if (c == call) return true;
            return false;
        };
        auto fd = [&](bool applies, uint64_t v) { r.number_if(applies, static_cast<int32_t>(v)); };
        // A string the call takes: null where it passed none (or an
        // unreadable one).
        auto str = [&](bool applies, std::string_view value, uint32_t bit) -> Record& {
            if (!applies) return r.absent();
            return (e->has & bit) ? r.text(value) : r.null();
        };
        bool has_flags = call != MOUNTSNOOP_FSCONFIG;
        r.text(call_of(call).name)
            .number(e->ret >= 0 ? e->ret : -1)
            .number(errno_of_return(e->ret))
            .number(e->mnt_ns)
            .real(static_cast<double>(e->lat_ns) / 1e6);
        fd(is({MOUNTSNOOP_FSCONFIG, MOUNTSNOOP_FSMOUNT}), a[0]);
        fd(is({MOUNTSNOOP_OPEN_TREE, MOUNTSNOOP_FSPICK, MOUNTSNOOP_MOUNT_SETATTR}), a[0]);
        fd(call == MOUNTSNOOP_MOVE_MOUNT, a[0]);
        str(is({MOUNTSNOOP_MOUNT, MOUNTSNOOP_MOVE_MOUNT}), fixed_string(e->source),
            MOUNTSNOOP_HAS_SOURCE);
        fd(call == MOUNTSNOOP_MOVE_MOUNT, a[2]);
        str(is({MOUNTSNOOP_MOUNT, MOUNTSNOOP_UMOUNT2, MOUNTSNOOP_MOVE_MOUNT}),
            fixed_string(e->target), MOUNTSNOOP_HAS_TARGET);
        str(is({MOUNTSNOOP_OPEN_TREE, MOUNTSNOOP_FSPICK, MOUNTSNOOP_MOUNT_SETATTR}),
            fixed_string(e->target), MOUNTSNOOP_HAS_TARGET);
        str(is({MOUNTSNOOP_MOUNT, MOUNTSNOOP_FSOPEN}), fixed_string(e->name), MOUNTSNOOP_HAS_NAME);
        if (call == MOUNTSNOOP_FSCONFIG) // named only for the call that has one
            r.text(fsconfig_command_name(a[1]));
        else
            r.absent();
        str(call == MOUNTSNOOP_FSCONFIG, fixed_string(e->name), MOUNTSNOOP_HAS_NAME);
        str(call == MOUNTSNOOP_FSCONFIG && (e->has & MOUNTSNOOP_HAS_SOURCE),
            fixed_string(e->source), MOUNTSNOOP_HAS_SOURCE);
        fd(call == MOUNTSNOOP_FSCONFIG, a[4]);
        if (has_flags)
            r.number(flags_value(*e)).lazy([&] { return flags_of(*e); });
        else
            r.absent().absent();
        bool attr = call == MOUNTSNOOP_MOUNT_SETATTR && (e->has & MOUNTSNOOP_HAS_ATTR);
        if (call == MOUNTSNOOP_FSMOUNT)
            r.number(a[2] & 0xffffffff);
        else
            r.number_if(attr, e->attr_set);
        r.number_if(attr, e->attr_clr).number_if(attr, e->propagation);
        str(call == MOUNTSNOOP_MOUNT, fixed_string(e->data), MOUNTSNOOP_HAS_DATA);
        r.lazy([&] { return Formatted{call_line(*e)}; }).end();
    }
};

std::vector<AttachStep> attach_steps() {
    // The new mount API is 5.2+, mount_setattr 5.12+: a kernel without them
    // has nothing of theirs to trace.
    return {syscall_tiers("mount system calls", {{"mount"},
                                                 {"umount"},
                                                 {"fsopen", true, true, true},
                                                 {"fsconfig", true, true, true},
                                                 {"fsmount", true, true, true},
                                                 {"move_mount", true, true, true},
                                                 {"open_tree", true, true, true},
                                                 {"fspick", true, true, true},
                                                 {"mount_setattr", true, true, true}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_mountsnoop(const CommonOptions& options, uint32_t, Output& out,
                       std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int mountsnoop(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("mountsnoop",
                    "Trace mount(), umount2() and the new mount API (fsopen, fsconfig, fsmount, "
                    "move_mount, open_tree, fspick, mount_setattr).",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.set_examples("  mountsnoop                every mount call\n"
                     "  mountsnoop -x             only failed ones\n"
                     "  mountsnoop -T -o json     JSON Lines (one key a field)\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<mountsnoop_bpf>(
        {.name = "mountsnoop",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing mount system calls... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
