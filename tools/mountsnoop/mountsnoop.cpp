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

#include <cstddef>
#include <cstring>

namespace corescope::tools {

namespace {

const char* const call_names[MOUNTSNOOP_CALLS] = {"mount",     "umount2", "fsopen",
                                                  "fsconfig",  "fsmount", "move_mount",
                                                  "open_tree", "fspick",  "mount_setattr"};

// The flags as <linux/mount.h> and <fcntl.h> name them (written out: the C
// library's headers and the kernel's clash, and older ones lack the new API).
constexpr FlagName mount_flags[] = {
    {1, "MS_RDONLY"},          {2, "MS_NOSUID"},           {4, "MS_NODEV"},
    {8, "MS_NOEXEC"},          {16, "MS_SYNCHRONOUS"},     {32, "MS_REMOUNT"},
    {64, "MS_MANDLOCK"},       {128, "MS_DIRSYNC"},        {256, "MS_NOSYMFOLLOW"},
    {1024, "MS_NOATIME"},      {2048, "MS_NODIRATIME"},    {4096, "MS_BIND"},
    {8192, "MS_MOVE"},         {16384, "MS_REC"},          {32768, "MS_SILENT"},
    {1 << 16, "MS_POSIXACL"},  {1 << 17, "MS_UNBINDABLE"}, {1 << 18, "MS_PRIVATE"},
    {1 << 19, "MS_SLAVE"},     {1 << 20, "MS_SHARED"},     {1 << 21, "MS_RELATIME"},
    {1 << 22, "MS_KERNMOUNT"}, {1 << 23, "MS_I_VERSION"},  {1 << 24, "MS_STRICTATIME"},
    {1 << 25, "MS_LAZYTIME"},
};
constexpr FlagName umount_flags[] = {
    {1, "MNT_FORCE"}, {2, "MNT_DETACH"}, {4, "MNT_EXPIRE"}, {8, "UMOUNT_NOFOLLOW"}};
constexpr FlagName fsopen_flags[] = {{1, "FSOPEN_CLOEXEC"}};
constexpr FlagName fsmount_flags[] = {{1, "FSMOUNT_CLOEXEC"}};
constexpr FlagName mount_attrs[] = {
    {0x1, "MOUNT_ATTR_RDONLY"},          {0x2, "MOUNT_ATTR_NOSUID"},
    {0x4, "MOUNT_ATTR_NODEV"},           {0x8, "MOUNT_ATTR_NOEXEC"},
    {0x10, "MOUNT_ATTR_NOATIME"},        {0x20, "MOUNT_ATTR_STRICTATIME"},
    {0x80, "MOUNT_ATTR_NODIRATIME"},     {0x100000, "MOUNT_ATTR_IDMAP"},
    {0x200000, "MOUNT_ATTR_NOSYMFOLLOW"}};
constexpr FlagName move_mount_flags[] = {
    {0x1, "MOVE_MOUNT_F_SYMLINKS"},    {0x2, "MOVE_MOUNT_F_AUTOMOUNTS"},
    {0x4, "MOVE_MOUNT_F_EMPTY_PATH"},  {0x10, "MOVE_MOUNT_T_SYMLINKS"},
    {0x20, "MOVE_MOUNT_T_AUTOMOUNTS"}, {0x40, "MOVE_MOUNT_T_EMPTY_PATH"},
    {0x100, "MOVE_MOUNT_SET_GROUP"},   {0x200, "MOVE_MOUNT_BENEATH"}};
constexpr FlagName open_tree_flags[] = {
    {1, "OPEN_TREE_CLONE"},     {02000000, "OPEN_TREE_CLOEXEC"}, {0x100, "AT_SYMLINK_NOFOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"}, {0x1000, "AT_EMPTY_PATH"},       {0x8000, "AT_RECURSIVE"}};
constexpr FlagName fspick_flags[] = {{1, "FSPICK_CLOEXEC"},
                                     {2, "FSPICK_SYMLINK_NOFOLLOW"},
                                     {4, "FSPICK_NO_AUTOMOUNT"},
                                     {8, "FSPICK_EMPTY_PATH"}};
constexpr FlagName at_flags[] = {{0x100, "AT_SYMLINK_NOFOLLOW"},
                                 {0x800, "AT_NO_AUTOMOUNT"},
                                 {0x1000, "AT_EMPTY_PATH"},
                                 {0x8000, "AT_RECURSIVE"}};
const char* const fsconfig_commands[] = {
    "FSCONFIG_SET_FLAG",   "FSCONFIG_SET_STRING",      "FSCONFIG_SET_BINARY",
    "FSCONFIG_SET_PATH",   "FSCONFIG_SET_PATH_EMPTY",  "FSCONFIG_SET_FD",
    "FSCONFIG_CMD_CREATE", "FSCONFIG_CMD_RECONFIGURE", "FSCONFIG_CMD_CREATE_EXCL"};

constexpr uint64_t ms_magic_mask = 0xffff0000, ms_magic = 0xc0ed0000; // MS_MGC_VAL
constexpr int at_fdcwd = -100;

std::string fsconfig_command(uint64_t cmd) {
    return cmd < std::size(fsconfig_commands) ? fsconfig_commands[cmd] : std::to_string(cmd);
}

// The names of a call's flags argument; empty for a call without one.
std::string flags_of(const mountsnoop_event& e) {
    const __u64* a = e.args;
    switch (e.call) {
    case MOUNTSNOOP_MOUNT: {
        uint64_t flags = a[3];
        if ((flags & ms_magic_mask) == ms_magic) flags &= ~ms_magic_mask; // pre-2.4 callers
        return flag_names(flags, mount_flags);
    }
    case MOUNTSNOOP_UMOUNT2:
        return flag_names(a[1] & 0xffffffff, umount_flags);
    case MOUNTSNOOP_FSOPEN:
        return flag_names(a[1] & 0xffffffff, fsopen_flags);
    case MOUNTSNOOP_FSMOUNT:
        return flag_names(a[1] & 0xffffffff, fsmount_flags);
    case MOUNTSNOOP_MOVE_MOUNT:
        return flag_names(a[4] & 0xffffffff, move_mount_flags);
    case MOUNTSNOOP_OPEN_TREE:
        return flag_names(a[2] & 0xffffffff, open_tree_flags);
    case MOUNTSNOOP_FSPICK:
        return flag_names(a[2] & 0xffffffff, fspick_flags);
    case MOUNTSNOOP_MOUNT_SETATTR:
        return flag_names(a[2] & 0xffffffff, at_flags);
    }
    return {};
}

// The flags argument's value, for JSON.
uint64_t flags_value(const mountsnoop_event& e) {
    // Where each call's flags are; fsconfig has none.
    static const int index[MOUNTSNOOP_CALLS] = {3, 1, 1, 0, 1, 4, 2, 2, 2};
    uint64_t v = e.args[index[e.call % MOUNTSNOOP_CALLS]];
    return e.call == MOUNTSNOOP_MOUNT ? v : v & 0xffffffff;
}

std::string_view string_of(const char* field, size_t size) {
    return {field, strnlen(field, size)};
}

// The call as strace would write it, its strings escaped: mount("none",
// "/mnt", "tmpfs", MS_NOSUID, "size=1m") = 0, or = -1 ENODEV.
std::string call_line(const mountsnoop_event& e) {
    const __u64* a = e.args;
    auto str = [&](const char* field, size_t size, uint32_t bit) {
        return (e.has & bit) ? "\"" + text_escaped(string_of(field, size)) + "\"" : "NULL";
    };
    std::string source = str(e.source, sizeof(e.source), MOUNTSNOOP_HAS_SOURCE);
    std::string target = str(e.target, sizeof(e.target), MOUNTSNOOP_HAS_TARGET);
    std::string name = str(e.name, sizeof(e.name), MOUNTSNOOP_HAS_NAME);
    auto fd = [](uint64_t v) {
        int fd = static_cast<int32_t>(v);
        return fd == at_fdcwd ? std::string("AT_FDCWD") : std::to_string(fd);
    };
    std::string args;
    switch (e.call) {
    case MOUNTSNOOP_MOUNT:
        args = source + ", " + target + ", " + name + ", " + flags_of(e) + ", " +
               str(e.data, sizeof(e.data), MOUNTSNOOP_HAS_DATA);
        break;
    case MOUNTSNOOP_UMOUNT2:
    case MOUNTSNOOP_FSOPEN:
        args = (e.call == MOUNTSNOOP_FSOPEN ? name : target) + ", " + flags_of(e);
        break;
    case MOUNTSNOOP_FSCONFIG:
        args = fd(a[0]) + ", " + fsconfig_command(a[1]) + ", " + name + ", " +
               ((e.has & MOUNTSNOOP_HAS_SOURCE) ? source
                : a[3]                          ? "..."
                                                : "NULL") +
               ", " + std::to_string(static_cast<int32_t>(a[4]));
        break;
    case MOUNTSNOOP_FSMOUNT:
        args = fd(a[0]) + ", " + flags_of(e) + ", " + flag_names(a[2] & 0xffffffff, mount_attrs);
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
            args += "{attr_set=" + flag_names(e.attr_set, mount_attrs) +
                    ", attr_clr=" + flag_names(e.attr_clr, mount_attrs) +
                    ", propagation=" + flag_names(e.propagation, mount_flags) + "}";
        else
            args += "NULL";
        break;
    }
    std::string line = std::string(call_names[e.call]) + "(" + args + ") = ";
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
        auto fd = [&](bool applies, uint64_t v) -> Record& {
            return applies ? r.number(static_cast<int32_t>(v)) : r.absent();
        };
        // A string the call takes: null where it passed none (or an
        // unreadable one).
        auto str = [&](bool applies, const char* field, size_t size, uint32_t bit) -> Record& {
            if (!applies) return r.absent();
            return (e->has & bit) ? r.text(string_of(field, size)) : r.null();
        };
        bool has_flags = call != MOUNTSNOOP_FSCONFIG;
        r.text(call_names[call])
            .number(e->ret >= 0 ? e->ret : -1)
            .number(errno_of_return(e->ret))
            .number(e->mnt_ns)
            .real(static_cast<double>(e->lat_ns) / 1e6);
        fd(is({MOUNTSNOOP_FSCONFIG, MOUNTSNOOP_FSMOUNT}), a[0]);
        fd(is({MOUNTSNOOP_OPEN_TREE, MOUNTSNOOP_FSPICK, MOUNTSNOOP_MOUNT_SETATTR}), a[0]);
        fd(call == MOUNTSNOOP_MOVE_MOUNT, a[0]);
        str(is({MOUNTSNOOP_MOUNT, MOUNTSNOOP_MOVE_MOUNT}), e->source, sizeof(e->source),
            MOUNTSNOOP_HAS_SOURCE);
        fd(call == MOUNTSNOOP_MOVE_MOUNT, a[2]);
        str(is({MOUNTSNOOP_MOUNT, MOUNTSNOOP_UMOUNT2, MOUNTSNOOP_MOVE_MOUNT}), e->target,
            sizeof(e->target), MOUNTSNOOP_HAS_TARGET);
        str(is({MOUNTSNOOP_OPEN_TREE, MOUNTSNOOP_FSPICK, MOUNTSNOOP_MOUNT_SETATTR}), e->target,
            sizeof(e->target), MOUNTSNOOP_HAS_TARGET);
        str(is({MOUNTSNOOP_MOUNT, MOUNTSNOOP_FSOPEN}), e->name, sizeof(e->name),
            MOUNTSNOOP_HAS_NAME);
        if (call == MOUNTSNOOP_FSCONFIG)
            r.text(fsconfig_command(a[1]));
        else
            r.absent();
        str(call == MOUNTSNOOP_FSCONFIG, e->name, sizeof(e->name), MOUNTSNOOP_HAS_NAME);
        str(call == MOUNTSNOOP_FSCONFIG && (e->has & MOUNTSNOOP_HAS_SOURCE), e->source,
            sizeof(e->source), MOUNTSNOOP_HAS_SOURCE);
        fd(call == MOUNTSNOOP_FSCONFIG, a[4]);
        if (has_flags)
            r.number(flags_value(*e)).lazy([&] { return flags_of(*e); });
        else
            r.absent().absent();
        if (call == MOUNTSNOOP_FSMOUNT)
            r.number(a[2] & 0xffffffff);
        else if (call == MOUNTSNOOP_MOUNT_SETATTR && (e->has & MOUNTSNOOP_HAS_ATTR))
            r.number(e->attr_set);
        else
            r.absent();
        bool attr = call == MOUNTSNOOP_MOUNT_SETATTR && (e->has & MOUNTSNOOP_HAS_ATTR);
        if (attr)
            r.number(e->attr_clr).number(e->propagation);
        else
            r.absent().absent();
        str(call == MOUNTSNOOP_MOUNT, e->data, sizeof(e->data), MOUNTSNOOP_HAS_DATA);
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
