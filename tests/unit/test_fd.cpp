// FileDescriptor (common/fd.h): closes what it owns exactly once, and
// ownership moves but is never copied.
#include "fd.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <fcntl.h>
#include <type_traits>
#include <unistd.h>

namespace test_fd {

using namespace corescope;

namespace {

int open_null() {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return fd;
}

// Nothing runs between a close and this check that could reuse the number
// (the tests are single-threaded).
bool is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

} // namespace

TEST_CASE("fd: closes what it owns when it goes out of scope", "[fd]") {
    int raw = open_null();
    {
        FileDescriptor fd(raw);
        CHECK(fd.valid());
        CHECK(fd.get() == raw);
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("fd: a failed open (negative) holds nothing", "[fd]") {
    FileDescriptor fd(-1);
    CHECK_FALSE(fd.valid());
    CHECK(fd.get() == -1);
    FileDescriptor empty;
    CHECK_FALSE(empty.valid());
    FileDescriptor other_error(-13);
    CHECK(other_error.get() == -1);
}

TEST_CASE("fd: moving hands ownership over, and the source closes nothing", "[fd]") {
    static_assert(!std::is_copy_constructible_v<FileDescriptor>);
    static_assert(!std::is_copy_assignable_v<FileDescriptor>);
    static_assert(std::is_nothrow_move_constructible_v<FileDescriptor>);
    static_assert(std::is_nothrow_move_assignable_v<FileDescriptor>);
    int raw = open_null();
    FileDescriptor moved;
    {
        FileDescriptor fd(raw);
        moved = std::move(fd);
        CHECK_FALSE(fd.valid());
    }
    CHECK(is_open(raw)); // the moved-from one did not close it
    CHECK(moved.get() == raw);
    FileDescriptor constructed(std::move(moved));
    CHECK_FALSE(moved.valid());
    CHECK(constructed.get() == raw);
    constructed.reset();
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("fd: assigning over one closes the one it held", "[fd]") {
    int first = open_null();
    int second = open_null();
    FileDescriptor a(first);
    FileDescriptor b(second);
    a = std::move(b);
    CHECK_FALSE(is_open(first));
    CHECK(is_open(second));
    CHECK(a.get() == second);
    auto& self = a;
    a = std::move(self); // moving onto itself keeps it
    CHECK(a.get() == second);
    CHECK(is_open(second));
}

TEST_CASE("fd: reset closes the old one; release gives it up unclosed", "[fd]") {
    int first = open_null();
    int second = open_null();
    FileDescriptor fd(first);
    fd.reset(second);
    CHECK_FALSE(is_open(first));
    CHECK(fd.get() == second);
    fd.reset(second); // the same one again: still open
    CHECK(is_open(second));
    int released = fd.release();
    CHECK(released == second);
    CHECK_FALSE(fd.valid());
    CHECK(is_open(second));
    close(second);
}

} // namespace test_fd
