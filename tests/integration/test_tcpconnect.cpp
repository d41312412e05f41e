// tcpconnect against connections this test opens to listeners of its own on
// 127.0.0.2 and ::1.
#include "harness.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_tcpconnect {

using namespace itest;
using nlohmann::json;

namespace {

// Servers listen on 127.0.0.2 (and ::1): an unbound IPv4 client then gets
// 127.0.0.1 as its source, so a swap of source and destination shows.
// A TCP socket bound to an ephemeral port of that address of family;
// listening unless told otherwise.
struct Socket {
    int fd = -1;
    int family = AF_INET;
    uint16_t port = 0;

    Socket(int family_, bool listening) : family(family_) {
        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage addr = loopback(family, 0);
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            (listening && listen(fd, 16) != 0))
            throw std::runtime_error("cannot open a loopback socket");
        port = local_port(fd);
    }
    ~Socket() { close(fd); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
};

// Connects to port on the loopback address of family; returns the client's
// source port (0 when the connect failed, as a refused one does).
uint16_t connect_once(int family, uint16_t port, bool* refused = nullptr) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage addr = loopback(family, port);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (refused) *refused = rc != 0 && errno == ECONNREFUSED;
    uint16_t sport = rc == 0 ? local_port(fd) : 0;
    close(fd);
    return sport;
}

// Text lines whose last column (DPORT) is port.
std::vector<std::vector<std::string>> lines_to_port(const std::string& text, uint16_t port) {
    return rows_ending_in(text, std::to_string(port));
}

} // namespace

TEST_CASE("tcpconnect reports connect() over IPv4 and IPv6 with PID, COMM, addresses and ports",
          "[tcpconnect]") {
    REQUIRE_BPF();
    Socket v4(AF_INET, true);
    Socket v6(AF_INET6, true);
    ToolProcess p({tool_path("tcpconnect"), "-s", "-P",
                   std::to_string(v4.port) + "," + std::to_string(v6.port)});
    REQUIRE(p.wait_attached());
    // From a child with a name of its own, so PID and COMM must be the
    // connecting process's and not a guess.
    int ports[2];
    REQUIRE(pipe(ports) == 0);
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_NAME, "cs-connector");
        uint16_t sports[2] = {connect_once(AF_INET, v4.port), connect_once(AF_INET6, v6.port)};
        _exit(write(ports[1], sports, sizeof sports) == sizeof sports ? 0 : 1);
    }
    uint16_t sports[2] = {0, 0};
    REQUIRE(read(ports[0], sports, sizeof sports) == sizeof sports);
    int status = 0;
    waitpid(child, &status, 0);
    close(ports[0]);
    close(ports[1]);
    REQUIRE(sports[0] != 0);
    REQUIRE(sports[1] != 0);
    REQUIRE(p.wait_for_output(" " + std::to_string(v6.port)));
    REQUIRE(p.wait_for_output(" " + std::to_string(v4.port)));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out)[0] ==
          "PID     COMM             IP SADDR            SPORT DADDR            DPORT");

    auto v4_lines = lines_to_port(r.out, v4.port);
    REQUIRE(v4_lines.size() == 1);
    REQUIRE(v4_lines[0].size() == 7);
    CHECK(v4_lines[0][0] == std::to_string(child));
    CHECK(v4_lines[0][1] == "cs-connector");
    CHECK(v4_lines[0][2] == "4");
    CHECK(v4_lines[0][3] == "127.0.0.1");
    CHECK(v4_lines[0][4] == std::to_string(sports[0]));
    CHECK(v4_lines[0][5] == "127.0.0.2");

    auto v6_lines = lines_to_port(r.out, v6.port);
    REQUIRE(v6_lines.size() == 1);
    REQUIRE(v6_lines[0].size() == 7);
    CHECK(v6_lines[0][0] == std::to_string(child));
    CHECK(v6_lines[0][2] == "6");
    CHECK(v6_lines[0][3] == "::1");
    CHECK(v6_lines[0][4] == std::to_string(sports[1]));
    CHECK(v6_lines[0][5] == "::1");
}

TEST_CASE("tcpconnect -P shows only the chosen destination ports", "[tcpconnect]") {
    REQUIRE_BPF();
    Socket wanted(AF_INET, true);
    Socket other(AF_INET, true);
    ToolProcess p({tool_path("tcpconnect"), "-P", std::to_string(wanted.port)});
    REQUIRE(p.wait_attached());
    REQUIRE(connect_once(AF_INET, other.port) != 0);
    REQUIRE(connect_once(AF_INET, wanted.port) != 0);
    REQUIRE(p.wait_for_output(" " + std::to_string(wanted.port)));
    Finished r = p.stop();
    CHECK(lines_to_port(r.out, wanted.port).size() == 1);
    CHECK(lines_to_port(r.out, other.port).empty());
    // Every event line is to the wanted port.
    for (const std::string& line : lines(r.out)) {
        if (line.rfind("PID", 0) == 0) continue;
        CHECK(fields(line).back() == std::to_string(wanted.port));
    }
}

TEST_CASE("tcpconnect reports a refused connect, and -p keeps only the chosen process",
          "[tcpconnect]") {
    REQUIRE_BPF();
    Socket closed(AF_INET, false); // bound, not listening: connects are refused
    ToolProcess p({tool_path("tcpconnect"), "-p", std::to_string(getpid()), "-o", "json"});
    REQUIRE(p.wait_attached());
    pid_t child = fork();
    if (child == 0) {
        connect_once(AF_INET, closed.port);
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    bool refused = false;
    connect_once(AF_INET, closed.port, &refused);
    REQUIRE(refused);
    REQUIRE(p.wait_for_output("\"dport\":" + std::to_string(closed.port)));
    Finished r = p.stop();
    int seen = 0;
    for (const std::string& line : lines(r.out)) {
        json e = json::parse(line);
        if (e.at("dport") != closed.port) continue;
        seen++;
        CHECK(e.at("pid") == getpid());
        CHECK(e.at("tid") == gettid());
        CHECK(e.at("ip") == 4);
        CHECK(e.at("saddr") == "127.0.0.1");
        CHECK(e.at("daddr") == "127.0.0.2");
        CHECK(e.at("sport").get<int>() > 0);
        CHECK(e.at("uid") == getuid());
        CHECK(e.at("time").is_string());
    }
    CHECK(seen == 1); // the child's connect is filtered out
}

TEST_CASE("tcpconnect -C counts connections per destination and prints them at the end",
          "[tcpconnect]") {
    REQUIRE_BPF();
    Socket a(AF_INET, true);
    Socket b(AF_INET6, true);
    ToolProcess p({tool_path("tcpconnect"), "-C", "-o", "json", "-P",
                   std::to_string(a.port) + "," + std::to_string(b.port)});
    REQUIRE(p.wait_attached());
    for (int i = 0; i < 3; i++)
        REQUIRE(connect_once(AF_INET, a.port) != 0);
    REQUIRE(connect_once(AF_INET6, b.port) != 0);
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    std::map<int, uint64_t> counts;
    for (const std::string& line : lines(r.out)) {
        json c = json::parse(line);
        counts[c.at("dport").get<int>()] += c.at("connects").get<uint64_t>();
        CHECK(c.contains("saddr"));
        CHECK_FALSE(c.contains("sport")); // only with -s
    }
    CHECK(counts[a.port] == 3);
    CHECK(counts[b.port] == 1);
    CHECK(counts.size() == 2);
}

TEST_CASE("tcpconnect rejects bad ports and conflicting options with exit 2", "[tcpconnect]") {
    for (const char* bad : {"0", "65536", "80,", "http", "-1"}) {
        Finished r = run({tool_path("tcpconnect"), "-P", bad});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(bad[0] == '8' ? "'80,'" : std::string("'") + bad + "'") !=
              std::string::npos);
    }
    CHECK(run({tool_path("tcpconnect"), "-4", "-6"}).exit_code == 2);
    CHECK(run({tool_path("tcpconnect"), "-C", "-T"}).exit_code == 2);
}

} // namespace test_tcpconnect
