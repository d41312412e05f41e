// tcpaccept against connections that a child of this test makes to
// listeners this test opens and accepts on, so the accepting PID (this
// process) differs from the connecting one.
#include "harness.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_tcpaccept {

using namespace itest;
using nlohmann::json;

namespace {

struct Listener {
    int fd;
    int family;
    uint16_t port;
    explicit Listener(int family_) : family(family_) {
        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage addr = loopback(family, 0);
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(fd, 16) != 0)
            throw std::runtime_error("cannot listen on loopback");
        port = local_port(fd);
    }
    ~Listener() { close(fd); }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
};

// A child process connects to the listener and keeps the connection open
// until the accept is done; returns the client's port. use_accept4 picks
// the system call the test (the acceptor) makes.
uint16_t connect_from_child_and_accept(const Listener& l, bool use_accept4) {
    int ports[2];
    if (pipe(ports) != 0) throw std::runtime_error("pipe");
    pid_t child = fork();
    if (child == 0) {
        int fd = socket(l.family, SOCK_STREAM, 0);
        sockaddr_storage addr = loopback(l.family, l.port);
        uint16_t port = 0;
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
            port = local_port(fd);
        (void)!write(ports[1], &port, sizeof port);
        char c;
        (void)!read(fd, &c, 1); // until the acceptor closes
        _exit(0);
    }
    uint16_t client_port = 0;
    (void)!read(ports[0], &client_port, sizeof client_port);
    close(ports[0]);
    close(ports[1]);
    int fd = use_accept4
                 ? static_cast<int>(syscall(SYS_accept4, l.fd, nullptr, nullptr, SOCK_CLOEXEC))
                 : static_cast<int>(syscall(SYS_accept, l.fd, nullptr, nullptr));
    if (fd >= 0) close(fd);
    waitpid(child, nullptr, 0);
    return fd >= 0 ? client_port : 0;
}

// Text lines whose last column (LPORT) is port.
std::vector<std::vector<std::string>> lines_on_port(const std::string& text, uint16_t port) {
    return rows_ending_in(text, std::to_string(port));
}

} // namespace

TEST_CASE("tcpaccept reports accept() and accept4() with the accepting PID, addresses and ports",
          "[tcpaccept]") {
    REQUIRE_BPF();
    Listener v4(AF_INET);
    Listener v6(AF_INET6);
    ToolProcess p(
        {tool_path("tcpaccept"), "-P", std::to_string(v4.port) + "," + std::to_string(v6.port)});
    REQUIRE(p.wait_attached());
    uint16_t client4 = connect_from_child_and_accept(v4, false);
    uint16_t client6 = connect_from_child_and_accept(v6, true);
    REQUIRE(client4 != 0);
    REQUIRE(client6 != 0);
    REQUIRE(p.wait_for_output(" " + std::to_string(v4.port)));
    REQUIRE(p.wait_for_output(" " + std::to_string(v6.port)));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out)[0] ==
          "PID     COMM             IP RADDR            RPORT LADDR            LPORT");

    auto a4 = lines_on_port(r.out, v4.port);
    REQUIRE(a4.size() == 1);
    REQUIRE(a4[0].size() == 7);
    CHECK(a4[0][0] == std::to_string(getpid()));
    CHECK(a4[0][2] == "4");
    CHECK(a4[0][3] == "127.0.0.1");
    CHECK(a4[0][4] == std::to_string(client4));
    CHECK(a4[0][5] == "127.0.0.2");

    auto a6 = lines_on_port(r.out, v6.port);
    REQUIRE(a6.size() == 1);
    REQUIRE(a6[0].size() == 7);
    CHECK(a6[0][0] == std::to_string(getpid()));
    CHECK(a6[0][2] == "6");
    CHECK(a6[0][3] == "::1");
    CHECK(a6[0][4] == std::to_string(client6));
    CHECK(a6[0][5] == "::1");
}

TEST_CASE("tcpaccept -P shows only the chosen local ports", "[tcpaccept]") {
    REQUIRE_BPF();
    Listener wanted(AF_INET);
    Listener other(AF_INET);
    ToolProcess p({tool_path("tcpaccept"), "-P", std::to_string(wanted.port)});
    REQUIRE(p.wait_attached());
    REQUIRE(connect_from_child_and_accept(other, true) != 0);
    REQUIRE(connect_from_child_and_accept(wanted, true) != 0);
    REQUIRE(p.wait_for_output(" " + std::to_string(wanted.port)));
    Finished r = p.stop();
    CHECK(lines_on_port(r.out, wanted.port).size() == 1);
    CHECK(lines_on_port(r.out, other.port).empty());
}

TEST_CASE("tcpaccept -p and JSON: the accepting process only, with numeric fields", "[tcpaccept]") {
    REQUIRE_BPF();
    Listener l(AF_INET);
    ToolProcess p({tool_path("tcpaccept"), "-p", std::to_string(getpid()), "-o", "json", "-T"});
    REQUIRE(p.wait_attached());
    // A child accepts on the same listener first: -p must hide it.
    pid_t acceptor = fork();
    if (acceptor == 0) {
        int fd = accept(l.fd, nullptr, nullptr);
        _exit(fd >= 0 ? 0 : 1);
    }
    int client = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_storage addr = loopback(AF_INET, l.port);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    int status = 0;
    waitpid(acceptor, &status, 0);
    REQUIRE(WEXITSTATUS(status) == 0);
    close(client);
    uint16_t client_port = connect_from_child_and_accept(l, false);
    REQUIRE(client_port != 0);
    REQUIRE(p.wait_for_output("\"rport\":" + std::to_string(client_port)));
    Finished r = p.stop();
    int seen = 0;
    for (const std::string& line : lines(r.out)) {
        json e = json::parse(line);
        if (e.at("lport") != l.port) continue;
        seen++;
        CHECK(e.at("pid") == getpid());
        CHECK(e.at("tid") == gettid());
        CHECK(e.at("uid") == getuid());
        CHECK(e.at("ip") == 4);
        CHECK(e.at("raddr") == "127.0.0.1");
        CHECK(e.at("rport") == client_port);
        CHECK(e.at("laddr") == "127.0.0.2");
        CHECK(e.at("fd").get<int>() >= 0);
        CHECK(e.at("comm").is_string());
        CHECK(e.at("time").is_string());
    }
    CHECK(seen == 1);
}

} // namespace test_tcpaccept
