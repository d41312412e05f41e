// sigsnoop: trace every signal the kernel generates, with its sender,
// target and result; -k (and the killsnoop name) traces the kill(),
// tkill() and tgkill() calls instead, with their return.
#include "decoder.h"
#include "event_fields.h"
#include "run.h"
#include "signals.h"
#include "version.h"

#include <linux/types.h>
#include "sigsnoop.skel.h"
#include "sigsnoop/sigsnoop.h"

#include <cstring>

namespace corescope::tools {

namespace {

const char* const source_names[SIGSNOOP_SOURCES] = {"generate", "kill", "tkill", "tgkill"};
const char* const result_names[SIGSNOOP_RESULTS] = {"delivered", "ignored", "already_pending",
                                                    "overflow", "delivered_without_info"};

// What became of the signal: the word for a generated one; the return of a
// kill-family call (0 or -errno), as the classic killsnoop prints it.
std::string result_text(const sigsnoop_event& e) {
    if (e.source != SIGSNOOP_GENERATE) return std::to_string(e.result);
    return static_cast<uint32_t>(e.result) < SIGSNOOP_RESULTS ? result_names[e.result] : "unknown";
}

struct Printer {
    bool kill_mode; // -k, killsnoop: the kill-family calls

    RecordLayout layout() const {
        return {task_all,
                {pid_column(), comm_column(), column("signal_name", "SIG", 9), json_field("signal"),
                 column("target_pid", "TPID", 7), shown_if(!kill_mode, json_field("target_comm")),
                 shown_if(!kill_mode, json_field("group")),
                 shown_if(!kill_mode, json_field("code")), shown_if(kill_mode, json_field("call")),
                 shown_if(!kill_mode, column("result", "RESULT", 0)),
                 shown_if(kill_mode, json_field("errno")),
                 shown_if(kill_mode, text_column("RESULT", 0))}};
    }

    void print(RecordWriter& records, const void* data, size_t size) const {
        const auto* event = event_in<sigsnoop_event>(data, size);
        if (!event) return;
        sigsnoop_event e;
        std::memcpy(&e, event, sizeof e);
        Record r = records.begin(task_of(e));
        if (!r) return;
        r.lazy([&] { return signal_name(e.sig); }).number(e.sig).number(e.target_pid);
        r.text(fixed_string(e.target_comm)).boolean(e.group != 0).number(e.code);
        r.text(source_names[e.source % SIGSNOOP_SOURCES]);
        std::string result = result_text(e);
        r.text(result).number(errno_of_return(e.result)).text(result);
        r.end();
    }
};

std::vector<AttachStep> attach_steps(bool kill_mode) {
    if (kill_mode) return {syscall_tiers("kill system calls", {{"kill"}, {"tkill"}, {"tgkill"}})};
    return {tracepoint_tiers("signal generation", {{"generate", "signal:signal_generate"}})};
}

// killsnoop (bpf-killsnoop under -Dtool_prefix=bpf-) is sigsnoop -k.
bool invoked_as_killsnoop(std::string_view invoked_as) {
    std::string_view prefix = corescope_tool_prefix;
    if (!prefix.empty() && invoked_as.substr(0, prefix.size()) == prefix)
        invoked_as.remove_prefix(prefix.size());
    return invoked_as == "killsnoop";
}

} // namespace

// For tests/golden and tests/fuzz (common/decoder.h); variant bit 0: kill mode.
void decode_sigsnoop(const CommonOptions& options, uint32_t variant, Output& out,
                     std::span<const RecordedEvent> events) {
    decode_events(Printer{(variant & 1) != 0}, options, out, events);
}

int sigsnoop(int argc, char** argv) {
    CommonOptions options;
    std::string argv0 = argc > 0 ? argv[0] : "sigsnoop";
    std::string tool = argv0.substr(argv0.rfind('/') + 1);
    bool kill_mode = invoked_as_killsnoop(tool);
    std::optional<int> only_signal;
    CommandLine cli(tool,
                    kill_mode ? "Trace signals sent by kill(), tkill() and tgkill(), with the "
                                "call's result."
                              : "Trace every signal generated: sender, target, signal, result.",
                    {Flag::pid, Flag::tid, Flag::uid, Flag::cgroup, Flag::name, Flag::failed,
                     Flag::time, Flag::print_uid, Flag::duration});
    cli.add_switch('k', "kill", "only signals sent by kill(), tkill() and tgkill() (as killsnoop)",
                   &kill_mode);
    cli.add_option('s', "signal", "SIG", "only this signal, by name (SIGKILL, KILL) or number",
                   [&](std::string_view v) { only_signal = parse_signal("signal", v); });
    std::string examples;
    auto example = [&examples](const std::string& command, const char* what) {
        examples += "  " + command +
                    std::string(command.size() < 26 ? 26 - command.size() : 1, ' ') + what + "\n";
    };
    if (kill_mode) {
        example(tool, "every kill, tkill and tgkill call");
    } else {
        example(tool, "every signal generated");
        example(tool + " -k", "only kill, tkill and tgkill calls (as killsnoop)");
    }
    example(tool + " -x", "only signals that failed");
    example(tool + " -s SIGKILL", "only SIGKILL (-s 9 too)");
    example(tool + " -p 181 -T", "signals process 181 sends, with times");
    example(tool + " -o json -d 60", "a minute of JSON Lines");
    cli.set_examples(examples);
    if (cli.parse(argc, argv, options) == ParseResult::exit_success) return exit_ok;

    return run_event_tool<sigsnoop_bpf>(
        {.name = tool,
         .options = options,
         .attach_steps = [&] { return attach_steps(kill_mode); },
         .configure =
             [&](sigsnoop_bpf& skel, const AttachPlan&) {
                 skel.rodata->filter_signal = only_signal.has_value();
                 skel.rodata->wanted_signal = only_signal.value_or(0);
             },
         .announcement = kill_mode ? "Tracing kill system calls... Hit Ctrl-C to end."
                                   : "Tracing signals... Hit Ctrl-C to end."},
        Printer{kill_mode});
}

} // namespace corescope::tools
