// common/signals.h: signal names as kill -l prints them, and -s SIG parsing.
#include "errors.h"
#include "signals.h"

#include <catch2/catch.hpp>
#include <csignal>

namespace test_signals {

using namespace corescope;

TEST_CASE("signal names are kill -l's", "[signals]") {
    CHECK(signal_name(SIGKILL) == "SIGKILL");
    CHECK(signal_name(SIGSEGV) == "SIGSEGV");
    CHECK(signal_name(SIGUSR1) == "SIGUSR1");
    CHECK(signal_name(SIGRTMIN) == "SIGRTMIN");
    CHECK(signal_name(SIGRTMIN + 1) == "SIGRTMIN+1");
    CHECK(signal_name(SIGRTMAX - 1) == "SIGRTMAX-1");
    CHECK(signal_name(SIGRTMAX) == "SIGRTMAX");
    // No name: kill's existence probe, glibc's own two, out of range.
    CHECK(signal_name(0) == "0");
    CHECK(signal_name(32) == "32");
    CHECK(signal_name(65) == "65");
    CHECK(signal_name(-3) == "-3");
}

TEST_CASE("a signal is given by name, in any case, with or without SIG, or by number",
          "[signals]") {
    CHECK(parse_signal("signal", "SIGKILL") == SIGKILL);
    CHECK(parse_signal("signal", "KILL") == SIGKILL);
    CHECK(parse_signal("signal", "sigusr2") == SIGUSR2);
    CHECK(parse_signal("signal", "9") == 9);
    CHECK(parse_signal("signal", "0") == 0);
    CHECK(parse_signal("signal", "64") == 64);
    CHECK(parse_signal("signal", "RTMIN+3") == SIGRTMIN + 3);
    CHECK(parse_signal("signal", "SIGRTMAX") == SIGRTMAX);
    // Every name parses back to its signal.
    for (int sig = 1; sig <= 64; sig++)
        if (signal_name(sig) != std::to_string(sig))
            CHECK(parse_signal("signal", signal_name(sig)) == sig);
    for (const char* bad : {"SIGFOO", "65", "-1", "", "SIG", "KILL9", "9x"}) {
        INFO(bad);
        try {
            parse_signal("signal", bad);
            FAIL("accepted");
        } catch (const UsageError& e) {
            CHECK(std::string(e.what()).find("'" + std::string(bad) + "'") != std::string::npos);
        }
    }
}

TEST_CASE("which signals end a process by default", "[signals]") {
    for (int sig : {SIGKILL, SIGSEGV, SIGTERM, SIGABRT, SIGBUS, SIGINT, SIGUSR1})
        CHECK(signal_terminates_by_default(sig));
    for (int sig : {0, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGURG, SIGWINCH, 65})
        CHECK_FALSE(signal_terminates_by_default(sig));
}

} // namespace test_signals
