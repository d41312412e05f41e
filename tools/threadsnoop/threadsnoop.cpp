// threadsnoop: trace every new thread, with its creator and, where the
// creator called the C library's pthread_create, the thread's start routine.
#include "decoder.h"
#include "event_fields.h"
#include "host_lookups.h"
#include "run.h"
#include "symbolizer.h"

#include <linux/types.h>
#include "threadsnoop.skel.h"
#include "threadsnoop/threadsnoop.h"

#include <cstdio>
#include <memory>
#include <string>

namespace corescope::tools {

namespace {

std::string hex(uint64_t address) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(address));
    return text;
}

struct Printer {
    // Null when decoding recorded events: the processes are not this host's.
    std::shared_ptr<Symbolizer> symbolizer;

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), tid_column(), comm_column(), column("new_tid", "NEWTID", 7),
                 json_field("start_address"), column("start_routine", "FUNC", 0)}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<threadsnoop_event>(data, size);
        if (!event) return;
        threadsnoop_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        r.number(e.new_tid);
        if (e.start_routine == 0) {
            r.null().null();
        } else {
            r.number(e.start_routine).lazy([&] {
                if (!symbolizer) return hex(e.start_routine);
                Symbol symbol = symbolizer->user(e.pid, e.start_routine);
                return symbol.known() ? symbol_label(symbol, true) : hex(e.start_routine);
            });
        }
        r.end();
    }
};

std::vector<AttachStep> attach_steps(const std::vector<std::string>& libcs) {
    AttachWay uprobes;
    for (const std::string& libc : libcs) {
        std::string target = libc + ":" + uprobe_target_in(libc, "pthread_create");
        uprobes.points.push_back({"pthread_create_entry", AttachKind::uprobe, target});
        uprobes.points.push_back({"pthread_create_return", AttachKind::uretprobe, target});
    }
    return {tracepoint_tiers("new threads", {{"newtask", "task:task_newtask"}}),
            {"start routines (pthread_create)", {uprobes}}};
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h).
void decode_threadsnoop(const CommonOptions& options, uint32_t, Output& out,
                        std::span<const RecordedEvent> events) {
    decode_events(Printer{}, options, out, events);
}

int threadsnoop(int argc, char** argv) {
    CommonOptions options;
    std::string libc_option;
    CommandLine cli("threadsnoop", "Trace new threads: creator, new thread ID, start routine.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::time,
                     Flag::print_uid, Flag::duration});
    add_libc_option(cli, libc_option, "find pthread_create in this C library");
    cli.set_examples("  threadsnoop               every new thread\n"
                     "  threadsnoop -p 181 -T     threads process 181 makes, with times\n"
                     "  threadsnoop -o json -d 60 a minute of JSON Lines\n");
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<threadsnoop_bpf>(
        {.name = "threadsnoop",
         .options = options,
         .attach_steps = [&] { return attach_steps(libc_paths(libc_option, options.pids)); },
         .announcement = "Tracing new threads... Hit Ctrl-C to end."},
        Printer{std::make_shared<Symbolizer>()});
}

} // namespace corescope::tools
