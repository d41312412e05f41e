// A command a tool starts and traces (memleak --command): forked at once,
// so its PID can go into the filters and probes before it runs, and held
// before its exec until the tool is attached.
#pragma once

#include "attach_plan.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace corescope {

// The words of a command line, split at spaces and tabs (no quoting, as
// bcc's -c takes them).
std::vector<std::string> command_words(std::string_view text);

// The program a command names: a path as given, else the first runnable
// file of that name in PATH. UsageError naming it when there is none.
std::string command_program(const std::string& name);

// The uprobe on the system C library's exit() by which a held command stops
// as it enters it (the tool's BPF program, `program`, sends it SIGSTOP), so
// that its mappings are read (exited's at_stop) before they are gone;
// nullopt where the library has no exit(). Throws RuntimeError when there is
// no C library.
std::optional<AttachPoint> exit_stop_probe(pid_t pid, const std::string& program = "exit_entry");

class HeldCommand {
  public:
    // tool: for the child's message when its exec fails. UsageError when
    // the command names no runnable program; RuntimeError if it cannot fork.
    HeldCommand(const std::string& tool, std::string_view command_line);
    HeldCommand(const HeldCommand&) = delete;
    HeldCommand& operator=(const HeldCommand&) = delete;
    // Not started: it exits unrun and is reaped. Stopped at the end of a
    // run (in exit(), by the tool's probe): it is continued.
    ~HeldCommand();

    pid_t pid() const { return pid_; }
    // Lets it exec.
    void go();
    // True once it has exited (then reaped). A stop (SIGSTOP from a probe
    // in its exit()) is handed to at_stop with its PID, then it continues.
    bool exited(const std::function<void(pid_t)>& at_stop);
    // exited(at_stop), and once it has, request_stop() (common/tool.h): the
    // run ends with the command. A stack tool calls it every second
    // (StackSummaryHooks::tick), reading the stopped command's mappings in
    // at_stop.
    void stop_run_when_exited(const std::function<void(pid_t)>& at_stop);

  private:
    pid_t pid_ = -1;
    int go_fd_ = -1;
    bool done_ = false;
};

} // namespace corescope
