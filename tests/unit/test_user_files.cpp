#include "errors.h"
#include "user_files.h"

#include <catch2/catch.hpp>
#include <string>
#include <unistd.h>
#include <vector>

namespace test_user_files {

using namespace corescope;

namespace {

bool is_libc(std::string_view name) {
    return name.starts_with("libc.so");
}

} // namespace

TEST_CASE("is_shared_library matches a stem's versions, not longer names", "[user_files]") {
    CHECK(is_shared_library("libssl.so", "libssl"));
    CHECK(is_shared_library("libssl.so.3", "libssl"));
    CHECK(is_shared_library("libssl-1.1.so", "libssl"));
    CHECK_FALSE(is_shared_library("libssl3.so", "libssl"));
    CHECK_FALSE(is_shared_library("libssl", "libssl"));
    CHECK_FALSE(is_shared_library("libreadline.so.8", "libssl"));
}

TEST_CASE("executable_files_in_maps lists each executable file once, in order", "[user_files]") {
    std::string maps = "55d0-55d1 r--p 00000000 08:01 1 /usr/bin/bash\n"
                       "55d2-55d3 r-xp 00001000 08:01 1 /usr/bin/bash\n"
                       "7f00-7f01 rw-p 00000000 00:00 0 [heap]\n"
                       "7f02-7f03 r-xp 00000000 08:01 2 /old/libx.so (deleted)\n"
                       "7f04-7f05 r-xp 00000000 08:01 3 /usr/lib/libssl.so.3\n"
                       "7f06-7f07 r-xp 00001000 08:01 3 /usr/lib/libssl.so.3\n"
                       "7f08-7f09 r--p 00000000 08:01 4 /usr/lib/data.bin\n"
                       "7f0a-7f0b r-xp 00000000 00:00 0 [vdso]\n"
                       "7f0c-7f0d r-xp 00000000 08:01 5 /tmp/a b c\n";
    CHECK(executable_files_in_maps(maps) ==
          std::vector<std::string>{"/usr/bin/bash", "/usr/lib/libssl.so.3", "/tmp/a b c"});
    CHECK(executable_files_in_maps("").empty());
    CHECK(executable_files_in_maps("garbage\nx\n").empty());
}

TEST_CASE("file_in_maps finds the first matching file, skipping deleted ones", "[user_files]") {
    std::string maps = "55d0-55d1 r--p 00000000 08:01 1 /usr/bin/bash\n"
                       "7f00-7f01 r--p 00000000 00:00 0 [heap]\n"
                       "7f02-7f03 r-xp 00000000 08:01 2 /old/libssl.so.3 (deleted)\n"
                       "7f04-7f05 r-xp 00000000 08:01 3 /usr/lib/libssl.so.3\n"
                       "7f06-7f07 r-xp 00001000 08:01 3 /usr/lib/libssl.so.3\n";
    auto ssl = [](std::string_view n) { return is_shared_library(n, "libssl"); };
    CHECK(file_in_maps(maps, ssl) == "/usr/lib/libssl.so.3");
    CHECK(file_in_maps(maps, [](std::string_view n) { return n == "bash"; }) == "/usr/bin/bash");
    CHECK(file_in_maps(maps, [](std::string_view n) { return n == "zsh"; }).empty());
    CHECK(file_in_maps("", ssl).empty());
}

TEST_CASE("user_file_paths: the given file, a process's through /proc/PID/root, the system's",
          "[user_files]") {
    UserFile libc{"the C library", is_libc, {"/nonexistent/libc.so.6"}, "--libc PATH"};
    // This process maps the C library: found in its maps, by PID through
    // its root, and as the system's; the same file twice is listed once.
    std::vector<std::string> mine = user_file_paths(libc, {}, {});
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].find("libc.so") != std::string::npos);
    uint32_t self = static_cast<uint32_t>(getpid());
    std::vector<std::string> by_pid = user_file_paths(libc, {}, {self, self});
    REQUIRE(by_pid.size() == 1);
    CHECK(by_pid[0] == "/proc/" + std::to_string(self) + "/root" + mine[0]);
    CHECK(user_file_paths(libc, "/proc/self/exe", {self}) ==
          std::vector<std::string>{"/proc/self/exe"});

    // Not mapped here: the first usual place that exists.
    UserFile elsewhere{
        "a file", [](std::string_view) { return false; }, {"/nonexistent/a", "/proc/self/exe"}, ""};
    CHECK(user_file_paths(elsewhere, {}, {}) == std::vector<std::string>{"/proc/self/exe"});

    // What is missing is named.
    UserFile nowhere{"libnothing", [](std::string_view) { return false; }, {}, "--lib PATH"};
    try {
        user_file_paths(nowhere, {}, {});
        FAIL("no error");
    } catch (const RuntimeError& e) {
        CHECK(std::string(e.what()).find("libnothing") != std::string::npos);
        CHECK(std::string(e.what()).find("--lib PATH") != std::string::npos);
    }
    try {
        user_file_paths(nowhere, {}, {self});
        FAIL("no error");
    } catch (const RuntimeError& e) {
        CHECK(std::string(e.what()).find("maps no libnothing") != std::string::npos);
    }
    CHECK_THROWS_AS(user_file_paths(libc, {}, {999999999}), RuntimeError);
    CHECK_THROWS_AS(user_file_paths(libc, "/nonexistent/libc.so.6", {}), RuntimeError);
}

TEST_CASE("function_offset and uprobe_target_in read a function's file offset", "[user_files]") {
    UserFile libc{"the C library", is_libc, {}, ""};
    std::string path = user_file_paths(libc, {}, {}).at(0);
    std::optional<uint64_t> offset = function_offset(path, "getpid");
    REQUIRE(offset);
    CHECK(*offset > 0);
    CHECK(uprobe_target_in(path, "getpid").rfind("0x", 0) == 0);
    CHECK_FALSE(function_offset(path, "no_such_function_anywhere"));
    CHECK(uprobe_target_in(path, "no_such_function_anywhere") == "no_such_function_anywhere");
    CHECK_FALSE(function_offset("/nonexistent/file", "getpid"));
}

TEST_CASE("a process's executable files through its root, and back", "[user_files]") {
    uint32_t self = static_cast<uint32_t>(getpid());
    std::string root = "/proc/" + std::to_string(self) + "/root";
    std::vector<std::string> files = executable_files_of_process(self);
    REQUIRE(!files.empty());
    for (const std::string& f : files)
        CHECK(f.starts_with(root + "/"));
    CHECK(path_in_process(root + "/usr/lib/libc.so.6", self) == "/usr/lib/libc.so.6");
    CHECK(path_in_process("/usr/lib/libc.so.6", self) == "/usr/lib/libc.so.6");
    CHECK(path_in_process(root, self) == root);
    CHECK_THROWS_AS(executable_files_of_process(0x7ffffff0), RuntimeError);
}

} // namespace test_user_files
