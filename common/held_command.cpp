#include "held_command.h"

#include "errors.h"
#include "host_lookups.h"
#include "tool.h"
#include "user_files.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace corescope {

std::optional<AttachPoint> exit_stop_probe(pid_t pid, const std::string& program) {
    std::string libc = libc_paths({}, {}).front();
    std::optional<uint64_t> exit_at = function_offset(libc, "exit");
    if (!exit_at) return std::nullopt;
    AttachPoint stop{program, AttachKind::uprobe, uprobe_target_at(libc, *exit_at)};
    stop.pid = static_cast<int>(pid);
    return stop;
}

std::vector<std::string> command_words(std::string_view text) {
    std::vector<std::string> words;
    for (size_t i = 0; i < text.size();) {
        size_t start = text.find_first_not_of(" \t", i);
        if (start == std::string_view::npos) break;
        size_t end = text.find_first_of(" \t", start);
        if (end == std::string_view::npos) end = text.size();
        words.emplace_back(text.substr(start, end - start));
        i = end;
    }
    return words;
}

std::string command_program(const std::string& name) {
    auto runnable = [](const std::string& p) {
        struct stat st {};
        return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string::npos) {
        if (!runnable(name)) throw UsageError("invalid --command '" + name + "': no such program");
        return name;
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (size_t i = 0; i <= dirs.size();) {
        size_t end = dirs.find(':', i);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(i, end - i);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (runnable(candidate)) return candidate;
        i = end + 1;
    }
    throw UsageError("invalid --command '" + name + "': not found in PATH");
}

HeldCommand::HeldCommand(const std::string& tool, std::string_view command_line) {
    std::vector<std::string> args = command_words(command_line);
    if (args.empty()) throw UsageError("invalid --command '': no program");
    std::string program = command_program(args[0]);
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw RuntimeError(errno_message("pipe", errno));
    pid_ = fork();
    if (pid_ < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        throw RuntimeError(errno_message("cannot start the command", err));
    }
    if (pid_ == 0) {
        close(fds[1]);
        char c;
        // EOF: the tool ended (or failed) before attaching.
        if (read(fds[0], &c, 1) != 1) _exit(127);
        close(fds[0]);
        execv(program.c_str(), argv.data());
        std::fprintf(stderr, "%s: cannot run %s: %s\n", tool.c_str(), program.c_str(),
                     std::strerror(errno));
        _exit(127);
    }
    close(fds[0]);
    go_fd_ = fds[1];
}

HeldCommand::~HeldCommand() {
    if (go_fd_ >= 0) {
        close(go_fd_); // not started: it exits
        waitpid(pid_, nullptr, 0);
    } else if (!done_) {
        kill(pid_, SIGCONT); // stopped in exit() at the end of the run
    }
}

void HeldCommand::go() {
    char c = 'g';
    if (write(go_fd_, &c, 1) != 1)
        throw RuntimeError(errno_message("cannot start the command", errno));
    close(go_fd_);
    go_fd_ = -1;
}

bool HeldCommand::exited(const std::function<void(pid_t)>& at_stop) {
    if (done_) return true;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG | WUNTRACED);
    if (r == pid_ && WIFSTOPPED(status)) {
        at_stop(pid_);
        kill(pid_, SIGCONT);
    } else if (r == pid_) {
        done_ = true;
    }
    return done_;
}

void HeldCommand::stop_run_when_exited(const std::function<void(pid_t)>& at_stop) {
    if (exited(at_stop)) request_stop();
}

} // namespace corescope
