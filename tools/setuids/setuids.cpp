// setuids: trace the system calls that change a process's user and group
// IDs, with the IDs the caller had, the ones it asked for, and the result.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"

#include <linux/types.h>
#include "setuids.skel.h"
#include "setuids/setuids.h"

#include <cstring>
#include <string>

namespace corescope::tools {

namespace {

const char* const call_names[SETUIDS_CALLS] = {"setuid",   "setgid",    "setreuid",
                                               "setregid", "setresuid", "setresgid",
                                               "setfsuid", "setfsgid",  "setgroups"};

// The names of each call's ID arguments, as JSON keys and in the text's ARGS.
struct CallArgs {
    int count;
    const char* names[3];
    bool gids; // the call changes group IDs: OLD shows the caller's gids
};
const CallArgs call_args[SETUIDS_CALLS] = {
    {1, {"uid"}, false},
    {1, {"gid"}, true},
    {2, {"ruid", "euid"}, false},
    {2, {"rgid", "egid"}, true},
    {3, {"ruid", "euid", "suid"}, false},
    {3, {"rgid", "egid", "sgid"}, true},
    {1, {"fsuid"}, false},
    {1, {"fsgid"}, true},
    {0, {}, true},
};
// Every argument name a call may take, in JSON's order (as new_NAME).
const char* const arg_names[] = {"uid",  "gid",  "ruid", "euid",  "suid",
                                 "rgid", "egid", "sgid", "fsuid", "fsgid"};
const char* const arg_keys[] = {"new_uid",  "new_gid",  "new_ruid", "new_euid",  "new_suid",
                                "new_rgid", "new_egid", "new_sgid", "new_fsuid", "new_fsgid"};

// An ID as the caller passed it: -1 (leave unchanged) as -1.
int64_t id_value(__u32 id) {
    return id == 0xffffffffu ? -1 : static_cast<int64_t>(id);
}

std::string requested_text(const setuids_event& e, const CallArgs& args) {
    std::string text;
    if (e.call == SETUIDS_SETGROUPS) {
        text = "groups=";
        for (__u32 i = 0; i < e.groups_read && i < SETUIDS_MAX_GROUPS; i++)
            text += (i ? "," : "") + std::to_string(e.groups[i]);
        if (static_cast<__s32>(e.groups_read) < static_cast<__s32>(e.args[0]))
            text += e.groups_read ? ",..." : "?";
        return text;
    }
    for (int i = 0; i < args.count; i++)
        text +=
            std::string(i ? " " : "") + args.names[i] + "=" + std::to_string(id_value(e.args[i]));
    return text;
}

std::string old_text(const setuids_event& e, const CallArgs& args) {
    const setuids_ids& o = e.old;
    auto join = [](__u32 a, __u32 b, __u32 c, __u32 d) {
        return std::to_string(a) + "/" + std::to_string(b) + "/" + std::to_string(c) + "/" +
               std::to_string(d);
    };
    return args.gids ? join(o.gid, o.egid, o.sgid, o.fsgid) : join(o.uid, o.euid, o.suid, o.fsuid);
}

std::string groups_json(const setuids_event& e) {
    std::string json = "[";
    for (__u32 i = 0; i < e.groups_read && i < SETUIDS_MAX_GROUPS; i++)
        json += (i ? "," : "") + std::to_string(e.groups[i]);
    return json + "]";
}

struct Printer {
    RecordLayout layout() const {
        std::vector<Field> fields = {pid_column(), comm_column(), column("call", "CALL", 9)};
        for (const char* key : arg_keys)
            fields.push_back(json_field(key));
        for (Field f :
             {json_field("group_count"), json_field("groups"), text_column("REQUESTED", 30),
              text_column("OLD(R/E/S/FS)", 19), json_field("old_ruid"), json_field("old_euid"),
              json_field("old_suid"), json_field("old_fsuid"), json_field("old_rgid"),
              json_field("old_egid"), json_field("old_sgid"), json_field("old_fsgid"),
              json_field("ret"), column("errno", "ERR", 3, Align::right)})
            fields.push_back(f);
        return {task_all, fields};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<setuids_event>(data, size);
        if (!event) return;
        setuids_event e;
        std::memcpy(&e, event, sizeof e);
        const CallArgs& args = call_args[e.call % SETUIDS_CALLS];
        Record r = records.begin(task_of(e));
        if (!r) return;
        r.text(call_names[e.call % SETUIDS_CALLS]);
        for (const char* name : arg_names) {
            int at = -1;
            for (int i = 0; i < args.count; i++)
                if (std::strcmp(args.names[i], name) == 0) at = i;
            if (at >= 0)
                r.number(id_value(e.args[at]));
            else
                r.absent();
        }
        if (e.call == SETUIDS_SETGROUPS)
            r.number(static_cast<__s32>(e.args[0])).lazy([&] { return Formatted{groups_json(e)}; });
        else
            r.absent().absent();
        r.lazy([&] { return requested_text(e, args); }).lazy([&] { return old_text(e, args); });
        const setuids_ids& o = e.old;
        r.number(o.uid).number(o.euid).number(o.suid).number(o.fsuid);
        r.number(o.gid).number(o.egid).number(o.sgid).number(o.fsgid);
        r.number(e.ret);
        // setfsuid and setfsgid return the previous ID, never an error.
        bool fs_call = e.call == SETUIDS_SETFSUID || e.call == SETUIDS_SETFSGID;
        r.number(fs_call ? 0 : errno_of_return(e.ret));
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("setuid family system calls", {{"setuid"},
                                                         {"setgid"},
                                                         {"setreuid"},
                                                         {"setregid"},
                                                         {"setresuid"},
                                                         {"setresgid"},
                                                         {"setfsuid"},
                                                         {"setfsgid"},
                                                         {"setgroups"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_setuids(const CommonOptions& options, uint32_t, Output& out,
                    std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int setuids(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("setuids",
                    "Trace setuid(), setgid(), setreuid(), setregid(), setresuid(), setresgid(), "
                    "setfsuid(), setfsgid() and setgroups(): old IDs, requested IDs, result.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.set_examples("  setuids                   every set*id call\n"
                     "  setuids -x                only the calls that failed\n"
                     "  setuids -u 1000 -T        calls by UID 1000, with times\n"
                     "  setuids -o json -d 60     a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<setuids_bpf>(
        {.name = "setuids",
         .options = options,
         .attach_steps = attach_steps,
         .announcement = "Tracing set*id calls... Hit Ctrl-C to end."},
        Printer{});
}

} // namespace corescope::tools
