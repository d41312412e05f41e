// sofdsnoop: file descriptors passed over Unix sockets (SCM_RIGHTS): who sent
// or received them, on which socket, and which files they are.
#include "decoder.h"
#include "errors.h"
#include "event_fields.h"
#include "output.h"
#include "run.h"

#include <linux/types.h>
#include "sofdsnoop.skel.h"
#include "sofdsnoop/sofdsnoop.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <sys/stat.h>

namespace corescope::tools {

namespace {

// What /proc/PID/fd shows for the pseudo-files, which have no name of their
// own in their dentry (sockets, pipes) or a bracketed one (anon inodes);
// else the dentry's name. Nothing for a descriptor that had no file.
std::optional<std::string> file_name(const sofdsnoop_file& f) {
    if (f.mode == 0 && f.ino == 0) return std::nullopt;
    std::string_view name = fixed_string(f.name);
    if (S_ISSOCK(f.mode)) return "socket:[" + std::to_string(f.ino) + "]";
    if (S_ISFIFO(f.mode) && name.empty()) return "pipe:[" + std::to_string(f.ino) + "]";
    if (!name.empty() && name.front() == '[') return "anon_inode:" + std::string(name);
    if (name.empty()) return std::nullopt;
    return std::string(name);
}

struct Printer {
    RecordLayout layout() const {
        return {task_all,
                {pid_column(), tid_column(), comm_column(), column("action", "ACTION", 6),
                 column("sock_fd", "SOCK", 4, Align::right),
                 column("errno", "ERR", 3, Align::right), json_field("ret"), json_field("fd_count"),
                 json_field("truncated"), column("fds", "FDS", 8), column("names", "NAMES", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* e = event_in<sofdsnoop_event>(data, size, offsetof(sofdsnoop_event, files));
        if (!e) return;
        size_t room = (size - offsetof(sofdsnoop_event, files)) / sizeof(sofdsnoop_file);
        size_t listed = std::min<size_t>({e->listed, room, SOFDSNOOP_MAX_FDS});
        Record r = records.begin(task_of(*e));
        if (!r) return;
        bool json = records.json();
        // Descriptors beyond those listed: text ends the list with ",...".
        bool more = e->fd_count > listed;
        r.text(e->action == SOFDSNOOP_RECV ? "recv" : "send")
            .number(e->sock_fd)
            .number(errno_of_return(e->ret))
            .number(e->ret)
            .number(e->fd_count)
            .boolean(e->ctrunc != 0);
        r.lazy([&] {
            std::string s = json ? "[" : "";
            for (size_t i = 0; i < listed; i++) {
                if (i) s += ',';
                s += std::to_string(e->files[i].fd);
            }
            if (json)
                s += ']';
            else if (more)
                s += listed ? ",..." : "...";
            return Formatted{s};
        });
        r.lazy([&] {
            std::string s = json ? "[" : "";
            for (size_t i = 0; i < listed; i++) {
                if (i) s += json ? "," : " ";
                std::optional<std::string> name = file_name(e->files[i]);
                if (!name)
                    s += json ? "null" : "-";
                else if (json)
                    append_json_string(s, *name);
                else
                    append_text_escaped(s, *name);
            }
            if (json) s += ']';
            return Formatted{s};
        });
        r.end();
    }
};

std::vector<AttachStep> attach_steps() {
    return {syscall_tiers("sendmsg and recvmsg system calls", {{"sendmsg"}, {"recvmsg"}})};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_sofdsnoop(const CommonOptions& options, uint32_t, Output& out,
                      std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int sofdsnoop(int argc, char** argv) {
    CommonOptions options;
    CommandLine cli("sofdsnoop",
                    "Trace file descriptors passed over Unix sockets (SCM_RIGHTS) by sendmsg() "
                    "and recvmsg().",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.set_examples("  sofdsnoop                 every descriptor passed\n"
                     "  sofdsnoop -p 181 -T       process 181's, with times\n"
                     "  sofdsnoop -x              only sends that failed\n"
                     "  sofdsnoop -o json -d 60   a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<sofdsnoop_bpf>({.name = "sofdsnoop",
                                          .options = options,
                                          .attach_steps = attach_steps,
                                          .announcement = "Tracing file descriptors passed over "
                                                          "Unix sockets... Hit Ctrl-C to end."},
                                         Printer{});
}

} // namespace corescope::tools
