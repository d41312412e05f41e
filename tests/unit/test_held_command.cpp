// A command a tool starts and holds before its exec (common/held_command.h).
#include "errors.h"
#include "held_command.h"
#include "host_lookups.h"
#include "user_files.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_held_command {

using namespace corescope;

TEST_CASE("command_words splits at runs of spaces and tabs", "[held_command]") {
    CHECK(command_words("./app -x  1\t2") == std::vector<std::string>{"./app", "-x", "1", "2"});
    CHECK(command_words("  ").empty());
    CHECK(command_words("").empty());
}

TEST_CASE("command_program finds a name in PATH and refuses what cannot run", "[held_command]") {
    CHECK(command_program("true").ends_with("/true"));
    CHECK(command_program("/bin/sh") == "/bin/sh");
    CHECK_THROWS_AS(command_program("no-such-program-here"), UsageError);
    CHECK_THROWS_AS(command_program("/no/such/program"), UsageError);
    CHECK_THROWS_AS(command_program("/etc/passwd"), UsageError); // not executable
    CHECK_THROWS_AS(command_program("/tmp"), UsageError);        // a directory
}

namespace {
// A script of the test's own (a command line has no quoting).
std::string script(const std::string& body) {
    char path[] = "/tmp/held-command-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::string text = "#!/bin/sh\n" + body + "\n";
    REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    fchmod(fd, 0700);
    close(fd);
    return path;
}
} // namespace

TEST_CASE("a held command runs only after go, and its exit is seen", "[held_command]") {
    HeldCommand command("test", "/bin/true");
    // Held: not exited, however long one waits for it.
    CHECK_FALSE(command.exited([](pid_t) {}));
    command.go();
    int stops = 0;
    while (!command.exited([&](pid_t) { stops++; }))
        usleep(1000);
    CHECK(stops == 0);
    CHECK(command.exited([](pid_t) {})); // stays exited
}

TEST_CASE("a held command that never got go exits unrun and is reaped", "[held_command]") {
    pid_t pid;
    {
        HeldCommand command("test", "sleep 100");
        pid = command.pid();
        CHECK(kill(pid, 0) == 0);
    }
    // Reaped by the destructor: no such child any more.
    CHECK(waitpid(pid, nullptr, WNOHANG) == -1);
}

TEST_CASE("a held command's stop is handed over, then it continues", "[held_command]") {
    std::string path = script("kill -STOP $$\nexit 0");
    HeldCommand command("test", path);
    command.go();
    std::vector<pid_t> stopped;
    while (!command.exited([&](pid_t pid) { stopped.push_back(pid); }))
        usleep(1000);
    unlink(path.c_str());
    CHECK(stopped == std::vector<pid_t>{command.pid()});
}

TEST_CASE("a held command's stop at exit: a uprobe on the C library's exit(), its PID only",
          "[held_command]") {
    std::optional<AttachPoint> stop = exit_stop_probe(4242);
    REQUIRE(stop.has_value()); // glibc has exit()
    CHECK(stop->program == "exit_entry");
    CHECK(stop->kind == AttachKind::uprobe);
    CHECK(stop->pid == 4242);
    std::string libc = libc_paths().front();
    CHECK(stop->target == uprobe_target_at(libc, *function_offset(libc, "exit")));
    CHECK(stop->target.starts_with(libc + ":0x"));
    CHECK(exit_stop_probe(7, "stop_here")->program == "stop_here");
}

TEST_CASE("a held command names no program: a usage error", "[held_command]") {
    CHECK_THROWS_AS(HeldCommand("test", "   "), UsageError);
    CHECK_THROWS_AS(HeldCommand("test", "no-such-program-here -x"), UsageError);
}

} // namespace test_held_command
