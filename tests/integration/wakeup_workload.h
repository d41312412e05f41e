// The workload of wakeuptime's and offwaketime's tests: a child process
// with a target thread that blocks reading a pipe and a waker thread, each
// with a name of its own, that sleeps and then writes one byte to it, a
// known number of times. Both threads issue the read and the write with
// their own system call instruction, so the innermost user frame is a
// function of this file (a libc wrapper's would be otherwise, and
// frame-pointer unwinding through it can skip its caller).
#pragma once

#include "harness.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern "C" inline __attribute__((noinline)) long corescope_wakeup_test_syscall3(long nr, long a,
                                                                                long b, long c) {
#if defined(__x86_64__)
    long ret;
    asm volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 asm("x8") = nr;
    register long x0 asm("x0") = a;
    register long x1 asm("x1") = b;
    register long x2 asm("x2") = c;
    asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
#else
    return syscall(nr, a, b, c);
#endif
}

// The target's block: a read of one byte. Not static, never inlined (inline
// only so that both tests' files may include it): the symbolizer must find
// it, and it must be on the stack.
extern "C" inline __attribute__((noinline)) long corescope_wakeup_test_read(int fd, char* c) {
    long ret = corescope_wakeup_test_syscall3(SYS_read, fd, reinterpret_cast<long>(c), 1);
    asm volatile("" ::: "memory"); // no tail call: this frame stays
    return ret;
}

// The waker's wake-up: a write of one byte.
extern "C" inline __attribute__((noinline)) long corescope_wakeup_test_write(int fd) {
    char c = 'w';
    long ret = corescope_wakeup_test_syscall3(SYS_write, fd, reinterpret_cast<long>(&c), 1);
    asm volatile("" ::: "memory");
    return ret;
}

namespace itest {

inline constexpr const char* wakeup_test_read = "corescope_wakeup_test_read";
inline constexpr const char* wakeup_test_write = "corescope_wakeup_test_write";

class WakeupChild {
  public:
    static constexpr int wakes = 10;
    static constexpr long sleep_ms = 50;

    std::string target_comm;
    std::string waker_comm;
    double took_s = 0; // wall time from wake_through()'s start to done

    WakeupChild(std::string target, std::string waker)
        : target_comm(std::move(target)), waker_comm(std::move(waker)) {
        void* shared = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED) throw std::runtime_error("mmap failed");
        shared_ = new (shared) Shared{};
        int go[2], done[2];
        if (pipe(go) != 0 || pipe(done) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ == 0) {
            close(go[1]);
            close(done[0]);
            child_main(go[0], done[1]);
        }
        close(go[0]);
        close(done[1]);
        go_fd_ = go[1];
        done_fd_ = done[0];
        // Both threads have said who they are (before they block on go).
        double deadline = now_s() + 10;
        while ((!__atomic_load_n(&shared_->target_tid, __ATOMIC_ACQUIRE) ||
                !__atomic_load_n(&shared_->waker_tid, __ATOMIC_ACQUIRE)) &&
               now_s() < deadline)
            usleep(1000);
    }
    ~WakeupChild() {
        end();
        if (go_fd_ >= 0) close(go_fd_);
        if (done_fd_ >= 0) close(done_fd_);
        munmap(shared_, sizeof(Shared));
    }
    WakeupChild(const WakeupChild&) = delete;
    WakeupChild& operator=(const WakeupChild&) = delete;

    pid_t pid() const { return pid_; }
    pid_t target_tid() const { return shared_->target_tid; }
    pid_t waker_tid() const { return shared_->waker_tid; }

    // Lets both threads go and waits until the target has been woken
    // `wakes` times.
    void wake_through() {
        double begin = now_s();
        if (write(go_fd_, "xx", 2) != 2) throw std::runtime_error("cannot start the child");
        char c;
        if (read(done_fd_, &c, 1) != 1) throw std::runtime_error("the child died");
        took_s = now_s() - begin;
    }
    void end() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }

  private:
    struct Shared {
        pid_t target_tid = 0;
        pid_t waker_tid = 0;
    };
    struct Thread {
        WakeupChild* self;
        int go_fd;
        int data_fd;
        int done_fd;
    };

    static void* target_main(void* arg) {
        auto* t = static_cast<Thread*>(arg);
        pthread_setname_np(pthread_self(), t->self->target_comm.c_str());
        __atomic_store_n(&t->self->shared_->target_tid, gettid(), __ATOMIC_RELEASE);
        char c;
        if (read(t->go_fd, &c, 1) != 1) _exit(1);
        for (int i = 0; i < wakes; i++)
            if (corescope_wakeup_test_read(t->data_fd, &c) != 1) _exit(1);
        if (write(t->done_fd, "d", 1) != 1) _exit(1);
        return nullptr;
    }
    static void* waker_main(void* arg) {
        auto* t = static_cast<Thread*>(arg);
        pthread_setname_np(pthread_self(), t->self->waker_comm.c_str());
        __atomic_store_n(&t->self->shared_->waker_tid, gettid(), __ATOMIC_RELEASE);
        char c;
        if (read(t->go_fd, &c, 1) != 1) _exit(1);
        for (int i = 0; i < wakes; i++) {
            struct timespec ts {
                0, sleep_ms * 1000000
            };
            nanosleep(&ts, nullptr);
            if (corescope_wakeup_test_write(t->data_fd) != 1) _exit(1);
        }
        return nullptr;
    }
    // Stays alive after the wakes (blocked on go) so that the tools can
    // still read its mappings when they print.
    [[noreturn]] void child_main(int go_fd, int done_fd) {
        int data[2];
        if (pipe(data) != 0) _exit(1);
        Thread target{this, go_fd, data[0], done_fd};
        Thread waker{this, go_fd, data[1], done_fd};
        pthread_t a, b;
        if (pthread_create(&a, nullptr, target_main, &target) != 0 ||
            pthread_create(&b, nullptr, waker_main, &waker) != 0)
            _exit(1);
        pthread_join(a, nullptr);
        pthread_join(b, nullptr);
        char c;
        while (read(go_fd, &c, 1) > 0) {
        }
        _exit(0);
    }

    pid_t pid_ = -1;
    int go_fd_ = -1;
    int done_fd_ = -1;
    Shared* shared_ = nullptr;
};

// What a run saw of the child's blocks: microseconds, wake-ups, and the
// stacks (records or lines) they came in.
struct Sum {
    uint64_t us = 0;
    uint64_t count = 0;
    size_t stacks = 0;
};

// Every wake-up, each after a block of at least the waker's 50 ms sleep less
// the few microseconds between a wake-up and the target's next block (1 ms
// allowed), and no more than the wall time they all took. One may be
// missing, as for offcputime (docs/reliability.md: no BPF program runs
// while the sandbox agent's thread is on a CPU). A tool that lost, split or
// padded the blocks still fails.
inline void check_wakes(const Sum& sum, double took_s) {
    INFO(sum.count << " wake-ups seen, " << sum.us << " us in all, over " << took_s << " s");
    CHECK(sum.count <= static_cast<uint64_t>(WakeupChild::wakes));
    CHECK(sum.count + 1 >= static_cast<uint64_t>(WakeupChild::wakes));
    CHECK(sum.us >= sum.count * static_cast<uint64_t>(WakeupChild::sleep_ms * 1000 - 1000));
    CHECK(sum.us <= static_cast<uint64_t>(took_s * 1e6));
}

// Another run over the same blocks gives the same total, to within the
// microseconds between two programs run one after the other (1 ms in all).
inline void check_same_time(const Sum& other, const Sum& from_json) {
    INFO(other.us << " us against " << from_json.us << " us in JSON");
    CHECK(other.stacks >= 1);
    CHECK(other.us + 1000 >= from_json.us);
    CHECK(other.us <= from_json.us + 1000);
}

} // namespace itest
