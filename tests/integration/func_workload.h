// funccount's, funclatency's and stackcount's workload (func_workload.c,
// with its library libfuncwork.so): started now, it prints "ready" and
// waits; go() lets it call fc_alpha (through fw_path_one, then
// fw_path_two), fc_beta, fc_slow(20 ms) and fire the USDT probe
// funcwork:tick the numbers of times it was given, and returns its exit
// status; work_and_stay() lets it do the same and keeps it alive until
// finish().
#pragma once

#include "harness.h"

#include <csignal>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace itest {

inline std::string func_workload_path() {
    return tool_path("tests/integration/func_workload");
}
inline std::string func_library_path() {
    return tool_path("tests/integration/libfuncwork.so");
}

class FuncWorkload {
  public:
    FuncWorkload(int alpha, int beta, int slow, int ticks) {
        int in[2], out[2];
        // Close-on-exec: another child (a tool, a second workload) must not
        // hold this one's stdin open, or closing it would not end it.
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        std::string path = func_workload_path();
        std::string args[4] = {std::to_string(alpha), std::to_string(beta), std::to_string(slow),
                               std::to_string(ticks)};
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            close(in[1]);
            close(out[0]);
            execl(path.c_str(), path.c_str(), args[0].c_str(), args[1].c_str(), args[2].c_str(),
                  args[3].c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        go_ = in[1];
        out_ = out[0];
        char ready[6] = {};
        size_t got = 0;
        while (got < sizeof ready) {
            ssize_t n = read(out_, ready + got, sizeof ready - got);
            if (n <= 0) break;
            got += static_cast<size_t>(n);
        }
        if (std::string(ready, got) != "ready\n") throw std::runtime_error("workload not ready");
    }
    ~FuncWorkload() {
        if (pid_ > 0 && !done_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (go_ >= 0) close(go_);
        close(out_);
    }
    FuncWorkload(const FuncWorkload&) = delete;
    FuncWorkload& operator=(const FuncWorkload&) = delete;

    pid_t pid() const { return pid_; }
    std::string pid_text() const { return std::to_string(pid_); }
    // Lets it run to its end; its exit status.
    int go() {
        if (go_ >= 0 && write(go_, "go\n", 3) != 3) return -1;
        return finish();
    }
    // Lets it do its work and returns once it has (it printed "done"),
    // leaving it alive, its mappings readable, until finish().
    bool work_and_stay() {
        if (write(go_, "go\n", 3) != 3) return false;
        std::string got;
        char c;
        while (got.size() < 5 && read(out_, &c, 1) == 1)
            got += c;
        return got == "done\n";
    }
    // Closes its stdin, which ends it; its exit status.
    int finish() {
        if (go_ >= 0) close(go_);
        go_ = -1;
        int status = 0;
        waitpid(pid_, &status, 0);
        done_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

  private:
    pid_t pid_ = -1;
    bool done_ = false; // reaped
    int go_ = -1;
    int out_ = -1;
};

// Does this kernel have kprobes (the 6.1 guest does; the development
// kernel does not)?
inline bool kernel_has_kprobes() {
    return access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
}

} // namespace itest
