#include "subprocess.h"
#include "fd.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace corescope {

namespace {
long long now_ms() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
} // namespace

ChildResult run_self(const std::vector<std::string>& args, int timeout_ms) {
    ChildResult result;
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
    FileDescriptor out_read(out_pipe[0]), out_write(out_pipe[1]);
    if (pipe2(err_pipe, O_CLOEXEC) != 0) return result;
    FileDescriptor err_read(err_pipe[0]), err_write(err_pipe[1]);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_write.get(), 1);
        dup2(err_write.get(), 2);
        std::vector<char*> argv;
        std::string self = "corescope";
        argv.push_back(self.data());
        for (const std::string& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv("/proc/self/exe", argv.data());
        _exit(127);
    }
    // Only the child writes: the reads below end when it exits.
    out_write.reset();
    err_write.reset();
    if (pid < 0) return result;
    long long deadline = now_ms() + timeout_ms;
    FileDescriptor* readers[2] = {&out_read, &err_read};
    struct pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
            } else {
                readers[i]->reset();
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    // Closed before the wait: a child still writing (poll failed) gets
    // EPIPE instead of blocking on a full pipe.
    out_read.reset();
    err_read.reset();
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

} // namespace corescope
