// ttysnoop against pseudo-terminals of the test's own: a child writes known
// bytes (plain text, escape sequences that would retitle or clear the
// watching terminal, a writev, a write larger than the capture limit) to one
// terminal, and a line to a second one; input typed on the master side (which
// the kernel echoes) and a twin process's write show what is left out.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace test_ttysnoop {

using namespace itest;
using nlohmann::json;

namespace {

// A pseudo-terminal pair: the master, and the slave open without becoming
// anyone's controlling terminal.
struct Pty {
    int master = -1;
    int slave = -1;
    std::string path;
    std::string number; // N of /dev/pts/N
    dev_t rdev = 0;

    Pty() {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master >= 0);
        REQUIRE(grantpt(master) == 0);
        REQUIRE(unlockpt(master) == 0);
        path = ptsname(master);
        number = path.substr(path.rfind('/') + 1);
        slave = open(path.c_str(), O_RDWR | O_NOCTTY);
        REQUIRE(slave >= 0);
        struct stat st;
        REQUIRE(fstat(slave, &st) == 0);
        rdev = st.st_rdev;
        fcntl(master, F_SETFL, O_NONBLOCK);
    }
    ~Pty() {
        close(slave);
        close(master);
    }
    // Reads what the terminal's output holds, so that no write blocks.
    void drain() const {
        char buf[4096];
        while (read(master, buf, sizeof buf) > 0) {
        }
    }
};

const std::string hello = "hello tty\n";
const std::string retitle = "\x1b]0;owned\x07"; // would set the watching terminal's title
const std::string clear = "\x1b[2J";            // would clear it
const std::string big(100, 'y');                // over the 32-byte limit of the text run
constexpr int limit = 32;                       // -s 16 --datacount 2

} // namespace

TEST_CASE("ttysnoop shows the bytes written to a terminal, escaped in text and exact in JSON; "
          "by path and by number, on both tiers; -p and other terminals left out",
          "[ttysnoop]") {
    REQUIRE_BPF();
    Pty a, b;
    std::string comm = unique_comm("tty-");
    std::string other_comm = unique_comm("tty-o-");
    GatedChild child(
        [&] {
            // Buffers on the child's stack: the bytes are read at the call's
            // entry, where a page the child has not touched yet (a string
            // constant of this binary, after fork) cannot be read.
            char ab[] = "ab", cd[] = "cd\n", pw[] = "pw2\n", other_pty[] = "other-pty\n",
                 typed[] = "typed-token\n";
            iovec iov[2] = {{ab, 2}, {cd, 3}};
            iovec pw2 = {pw, 4};
            bool ok = write(a.slave, hello.data(), hello.size()) == ssize_t(hello.size()) &&
                      write(a.slave, retitle.data(), retitle.size()) == ssize_t(retitle.size()) &&
                      write(a.slave, clear.data(), clear.size()) == ssize_t(clear.size()) &&
                      writev(a.slave, iov, 2) == 5 &&
                      // At the file position (-1): the positioned write a terminal takes.
                      pwritev2(a.slave, &pw2, 1, -1, 0) == 4 &&
                      write(a.slave, big.data(), big.size()) == ssize_t(big.size()) &&
                      // Another terminal: only the every-terminal instance shows it.
                      write(b.slave, other_pty, 10) == 10 &&
                      // Typed on the terminal (its input): the kernel echoes
                      // it to the output without a write() to the terminal.
                      write(a.master, typed, 12) == 12;
            return ok ? 0 : 1;
        },
        comm.c_str());
    GatedChild other(
        [&] {
            char line[] = "from-other\n"; // on the stack, as above
            return write(a.slave, line, 11) == 11 ? 0 : 1;
        },
        other_comm.c_str());
    std::string pid = std::to_string(child.pid());

    ToolProcess text({tool_path("ttysnoop"), "-C", "-s", "16", "--datacount", "2", a.path});
    ToolProcess by_number({tool_path("ttysnoop"), "-o", "json", a.number});
    ToolProcess raw({tool_path("ttysnoop"), "-o", "json", "-p", pid, a.path},
                    ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tracepoint", 1); });
    ToolProcess every({tool_path("ttysnoop"), "-o", "json", "-p", pid});
    REQUIRE(text.wait_attached());
    REQUIRE(by_number.wait_attached());
    REQUIRE(raw.wait_attached());
    REQUIRE(every.wait_attached());
    REQUIRE(other.run() == 0);
    REQUIRE(child.run() == 0);
    a.drain();
    b.drain();
    // The last write to a's slave is the big one: each instance has it
    // before it is stopped.
    REQUIRE(text.wait_for_output("yyy"));
    REQUIRE(by_number.wait_for_output("yyy"));
    REQUIRE(raw.wait_for_output("yyy"));
    REQUIRE(every.wait_for_output("other-pty"));
    Finished t = text.stop(), n = by_number.stop(), r = raw.stop(), e = every.stop();
    CHECK(t.exit_code == 0);
    CHECK(n.exit_code == 0);
    CHECK(r.exit_code == 0);
    CHECK(e.exit_code == 0);

    // Text: escaped, nothing raw reaches the watching terminal; the write
    // over the limit cut and marked, its whole size in BYTES.
    CHECK(t.out.find('\x1b') == std::string::npos);
    CHECK(t.out.find('\x07') == std::string::npos);
    CHECK(lines(t.out).at(0) == "PID     COMM              BYTES DATA");
    std::vector<std::string> rows = lines_containing(t.out, comm);
    std::vector<std::string> expected = {pid + " " + comm + " 10 hello tty\\n",
                                         pid + " " + comm + " 10 \\e]0;owned\\x07",
                                         pid + " " + comm + " 4 \\e[2J",
                                         pid + " " + comm + " 5 abcd\\n",
                                         pid + " " + comm + " 4 pw2\\n",
                                         pid + " " + comm + " 100 " + std::string(limit, 'y') +
                                             "..."};
    std::vector<std::string> squeezed;
    for (const std::string& row : rows) {
        std::vector<std::string> f = fields(row);
        std::string joined;
        for (const std::string& x : f)
            joined += (joined.empty() ? "" : " ") + x;
        squeezed.push_back(joined);
    }
    CHECK(squeezed == expected);
    // The twin's write: shown without -p (it is on the same terminal).
    CHECK(lines_containing(t.out, other_comm).size() == 1);
    CHECK(t.out.find("typed-token") == std::string::npos);
    CHECK(t.out.find("other-pty") == std::string::npos);

    // JSON: the bytes exact, whole (the default limit is 4096), with the
    // call, descriptor and device; by number as by path; on the raw tier
    // with -p, the twin left out.
    struct Want {
        std::string call, data;
    };
    std::vector<Want> want = {{"write", hello},     {"write", retitle},    {"write", clear},
                              {"writev", "abcd\n"}, {"pwritev2", "pw2\n"}, {"write", big}};
    for (const Finished* run : {&n, &r}) {
        INFO((run == &n ? "by number, tracepoints" : "by path, raw sys_enter, -p"));
        std::vector<json> mine, twin;
        for (const json& j : json_lines(run->out)) {
            if (j.at("pid") == child.pid()) mine.push_back(j);
            if (j.at("comm") == other_comm) twin.push_back(j);
        }
        CHECK(twin.size() == (run == &n ? 1u : 0u));
        REQUIRE(mine.size() == want.size());
        for (size_t i = 0; i < want.size(); i++) {
            INFO(mine[i].dump());
            CHECK(mine[i].at("comm") == comm);
            CHECK(mine[i].at("tid") == child.pid());
            CHECK(mine[i].at("call") == want[i].call);
            CHECK(mine[i].at("fd") == a.slave);
            CHECK(mine[i].at("major") == major(a.rdev));
            CHECK(mine[i].at("minor") == minor(a.rdev));
            CHECK(mine[i].at("bytes") == want[i].data.size());
            CHECK(mine[i].at("captured") == want[i].data.size());
            CHECK(mine[i].at("truncated") == false);
            CHECK(mine[i].at("data") == want[i].data);
            CHECK(!mine[i].contains("tty")); // no TTY field for one terminal
        }
    }

    // Every terminal (-p child): both of its terminals, named, and still not
    // the echo of what was typed.
    std::vector<std::string> ttys;
    for (const json& j : json_lines(e.out)) {
        CHECK(j.at("pid") == child.pid());
        ttys.push_back(j.at("tty").get<std::string>() + " " + j.at("data").get<std::string>());
    }
    CHECK(ttys.size() == 7);
    CHECK(std::count(ttys.begin(), ttys.end(), "pts/" + a.number + " " + hello) == 1);
    CHECK(std::count(ttys.begin(), ttys.end(), "pts/" + b.number + " other-pty\n") == 1);
    CHECK(e.out.find("typed-token") == std::string::npos);
}

TEST_CASE("ttysnoop refuses what is not a terminal with exit 2, naming it", "[ttysnoop]") {
    for (const std::string& path :
         {std::string("/etc/passwd"), std::string("/dev/null"), std::string("/nonexistent/pts")}) {
        INFO(path);
        Finished r = run({tool_path("ttysnoop"), path});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("'" + path + "'") != std::string::npos);
        CHECK(r.out.empty());
    }
    // A number names /dev/pts/N.
    Finished r = run({tool_path("ttysnoop"), "999999"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'/dev/pts/999999'") != std::string::npos);
    // /dev/tty stands for another terminal: refused, saying so.
    Finished tty = run({tool_path("ttysnoop"), "/dev/tty"});
    CHECK(tty.exit_code == 2);
    CHECK(tty.err.find("controlling terminal") != std::string::npos);
}

} // namespace test_ttysnoop
