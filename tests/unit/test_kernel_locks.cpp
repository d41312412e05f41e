// The kernel's locks as klockstat sees them (common/kernel_locks.h): lock
// kinds from contention_begin's flags, the caller past the lock functions
// in made-up stacks, and locks named by address or by a made-up kallsyms.
#include "kernel_locks.h"

#include "errors.h"
#include "made_stacks.h"

#include <catch2/catch.hpp>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace test_kernel_locks {

using namespace corescope;
using made_stacks::present;

namespace {

Frame named(uint64_t address, std::string name, std::string module = "[kernel]") {
    return made_stacks::named(address, std::move(name), std::move(module));
}

} // namespace

TEST_CASE("lock kinds from contention_begin's flags", "[kernel_locks]") {
    CHECK(lock_kind(lock_flag_mutex) == "mutex");
    CHECK(lock_kind(lock_flag_mutex | lock_flag_rt) == "rt-mutex");
    CHECK(lock_kind(lock_flag_rt) == "rt-mutex");
    CHECK(lock_kind(lock_flag_spin) == "spinlock");
    CHECK(lock_kind(lock_flag_spin | lock_flag_read) == "rwlock-read");
    CHECK(lock_kind(lock_flag_spin | lock_flag_write) == "rwlock-write");
    CHECK(lock_kind(lock_flag_read) == "rwsem-read");
    CHECK(lock_kind(lock_flag_write) == "rwsem-write");
    CHECK(lock_kind(lock_flag_percpu | lock_flag_read) == "percpu-rwsem-read");
    CHECK(lock_kind(lock_flag_percpu | lock_flag_write) == "percpu-rwsem-write");
    CHECK(lock_kind(0) == "semaphore");
    CHECK(lock_kind(1u << 7) == "flags=0x80");
}

TEST_CASE("the caller is the first frame past the lock functions and trampolines",
          "[kernel_locks]") {
    CHECK(lock_function("mutex_lock"));
    CHECK(lock_function("__mutex_lock_slowpath"));
    CHECK(lock_function("down_write_killable"));
    CHECK(lock_function("down"));
    CHECK(lock_function("_raw_spin_lock_irqsave"));
    CHECK(lock_function("osq_lock"));
    CHECK_FALSE(lock_function("pipe_write"));
    CHECK_FALSE(lock_function("downgrade_write_x")); // "down" alone, not every down*
    ResolvedStack stack =
        present({named(0x10, "__mutex_lock"), named(0x20, "bpf_trampoline_6442", "bpf"),
                 named(0x30, "mutex_lock"), named(0x40, "pipe_write"), named(0x50, "vfs_write")});
    CHECK(trampoline_frame(stack.frames[1]));
    CHECK_FALSE(trampoline_frame(stack.frames[3]));
    CHECK(lock_caller_index(stack) == 3);
    CHECK(lock_caller(stack) == "pipe_write");
    // A frame with no name is a caller, named by its address.
    CHECK(lock_caller(present({named(0x10, "mutex_lock"), Frame{0xffff0001, {}}})) == "0xffff0001");
    // Only lock functions: no caller.
    ResolvedStack all_locks = present({named(0x10, "mutex_lock"), named(0x20, "down_read")});
    CHECK(lock_caller_index(all_locks) == 2);
    CHECK(lock_caller(all_locks).empty());
    CHECK(lock_caller(ResolvedStack{}).empty());
}

TEST_CASE("a lock named by its address or its kallsyms symbol", "[kernel_locks]") {
    char path[] = "/tmp/corescope-kallsyms-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::string text = "ffffffff82a0c2e0 D tasklist_lock\n";
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    close(fd);
    CHECK(parse_lock_address("0xffffffff82a0c2e0", path) == 0xffffffff82a0c2e0);
    CHECK(parse_lock_address("0XFFFF8880AB", path) == 0xffff8880ab);
    CHECK(parse_lock_address("tasklist_lock", path) == 0xffffffff82a0c2e0);
    for (const char* bad : {"0x0", "0xzz", "0x12 ", "no_such_lock"})
        CHECK_THROWS_AS(parse_lock_address(bad, path), UsageError);
    unlink(path);
}

} // namespace test_kernel_locks
