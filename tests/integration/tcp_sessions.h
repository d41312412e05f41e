// Two TCP sessions between two processes of a test's own on loopback, for
// the tools that count bytes (tcptop, tcpsubnet): an IPv4 one from
// 127.0.0.1 to 127.0.0.2 (the client sends 100,000 bytes and reads 150,000
// back) and an IPv6 one on ::1 (7,000 and 3,000). Every send and receive
// is a system call of the client (a gated child) or the server (a child
// blocked in accept() before the tools start), and nothing else moves bytes
// on these connections.
#pragma once

#include "harness.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <memory>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace itest::tcp_sessions {

constexpr uint64_t v4_client_sends = 100000, v4_server_sends = 150000;
constexpr uint64_t v6_client_sends = 7000, v6_server_sends = 3000;
inline const char* client_name = "cs-tcpbytes-cli";
inline const char* server_name = "cs-tcpbytes-srv";

inline bool send_all(int fd, size_t n) {
    std::vector<char> buf(n, 'x');
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(fd, buf.data() + done, n - done, MSG_NOSIGNAL);
        if (w <= 0) return false;
        done += static_cast<size_t>(w);
    }
    return true;
}

inline bool recv_exactly(int fd, size_t n) {
    std::vector<char> buf(65536);
    size_t done = 0;
    while (done < n) {
        ssize_t r = recv(fd, buf.data(), std::min(buf.size(), n - done), 0);
        if (r <= 0) return false;
        done += static_cast<size_t>(r);
    }
    return true;
}

inline int listen_on(int family) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage addr = loopback(family, 0);
    socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 4) != 0)
        throw std::runtime_error("cannot listen on loopback");
    return fd;
}

// One session's server side: read what the client sends, answer, wait for
// the client's close.
inline bool serve(int listener, size_t receives, size_t sends) {
    int fd = accept(listener, nullptr, nullptr);
    bool ok = fd >= 0 && recv_exactly(fd, receives) && send_all(fd, sends);
    char c;
    while (ok && recv(fd, &c, 1, 0) > 0) {
    }
    close(fd);
    return ok;
}

inline bool session(int family, uint16_t port, size_t sends, size_t receives,
                    uint16_t* client_port) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage addr = loopback(family, port);
    socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) return false;
    *client_port = local_port(fd);
    bool ok = send_all(fd, sends) && recv_exactly(fd, receives);
    close(fd);
    return ok;
}

// The two sessions: a server child blocked in accept() before the tools
// start, and a gated client child.
struct Sessions {
    int v4_listener = listen_on(AF_INET);
    int v6_listener = listen_on(AF_INET6);
    uint16_t v4_port = local_port(v4_listener);
    uint16_t v6_port = local_port(v6_listener);
    // The client reports its two local ports through it.
    int ports_pipe[2] = {-1, -1};
    pid_t server = -1;
    bool server_reaped = false;
    std::unique_ptr<GatedChild> client;
    uint16_t v4_client_port = 0, v6_client_port = 0;

    Sessions() {
        REQUIRE(pipe(ports_pipe) == 0);
        server = fork();
        REQUIRE(server >= 0);
        if (server == 0) {
            prctl(PR_SET_NAME, server_name);
            bool ok = serve(v4_listener, v4_client_sends, v4_server_sends) &&
                      serve(v6_listener, v6_client_sends, v6_server_sends);
            _exit(ok ? 0 : 1);
        }
        client = std::make_unique<GatedChild>(
            [this] {
                uint16_t ports[2] = {0, 0};
                bool ok = session(AF_INET, v4_port, v4_client_sends, v4_server_sends, &ports[0]) &&
                          session(AF_INET6, v6_port, v6_client_sends, v6_server_sends, &ports[1]);
                if (write(ports_pipe[1], ports, sizeof ports) != sizeof ports) return 2;
                return ok ? 0 : 1;
            },
            client_name);
    }
    ~Sessions() {
        close(v4_listener);
        close(v6_listener);
        close(ports_pipe[0]);
        close(ports_pipe[1]);
        if (server > 0 && !server_reaped) {
            kill(server, SIGKILL);
            waitpid(server, nullptr, 0);
        }
    }
    void run() {
        REQUIRE(client->run() == 0);
        uint16_t ports[2];
        REQUIRE(read(ports_pipe[0], ports, sizeof ports) == sizeof ports);
        v4_client_port = ports[0];
        v6_client_port = ports[1];
        int status = 0;
        REQUIRE(waitpid(server, &status, 0) == server);
        server_reaped = true;
        REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
};

} // namespace itest::tcp_sessions
