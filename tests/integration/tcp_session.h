// One TCP session between two named child processes of the test, over the
// loopback (127.0.0.2 or ::1), for the tools that follow a connection's life
// (tcpstates, tcpconnlat, tcptracer). The children are forked and the
// listening socket bound (so its port is known) before any tool starts; run()
// lets them go: the server listens, the client connects, the server
// accepts, the client holds the connection open for hold_ms and closes it,
// the server holds its end in CLOSE_WAIT for close_wait_ms, closes it, and
// then closes the listener. Every step is ordered by pipes, never by time.
#pragma once

#include "harness.h"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace itest {

class TcpSession {
  public:
    static constexpr const char* client_name = "cs-tcp-client";
    static constexpr const char* server_name = "cs-tcp-server";

    // What the children measured (milliseconds, CLOCK_MONOTONIC).
    struct Times {
        uint16_t client_port = 0;
        double connect_ms = 0;     // connect() from its call to its return
        double client_open_ms = 0; // from before connect() to after close()
        double server_open_ms = 0; // from accept()'s return to after close()
    };

    TcpSession(int family, int hold_ms, int close_wait_ms)
        : family_(family), hold_ms_(hold_ms), close_wait_ms_(close_wait_ms) {
        listen_fd_ = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage addr = loopback(family, 0);
        if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr))
            throw std::runtime_error("cannot bind a loopback socket");
        server_port = local_port(listen_fd_);
        if (pipe(go_) || pipe(ready_) || pipe(accepted_) || pipe(results_))
            throw std::runtime_error("pipe failed");
        server_pid = fork();
        if (server_pid == 0) _exit(serve());
        client_pid = fork();
        if (client_pid == 0) _exit(connect_and_hold());
        close(listen_fd_);
        listen_fd_ = -1;
    }
    ~TcpSession() {
        for (pid_t pid : {server_pid, client_pid})
            if (pid > 0 && !reaped_) kill(pid, SIGKILL);
        if (!reaped_)
            for (pid_t pid : {server_pid, client_pid})
                if (pid > 0) waitpid(pid, nullptr, 0);
        for (int* p : {go_, ready_, accepted_, results_})
            for (int i = 0; i < 2; i++)
                if (p[i] >= 0) close(p[i]);
        if (listen_fd_ >= 0) close(listen_fd_);
    }
    TcpSession(const TcpSession&) = delete;
    TcpSession& operator=(const TcpSession&) = delete;

    // Runs the session to its end; throws if a step failed.
    Times run() {
        char go[2] = {'g', 'g'};
        if (write(go_[1], go, 2) != 2) throw std::runtime_error("cannot start the session");
        Times client{}, server{};
        bool ok = read(results_[0], &client, sizeof client) == sizeof client &&
                  read(results_[0], &server, sizeof server) == sizeof server;
        int status_client = 0, status_server = 0;
        waitpid(client_pid, &status_client, 0);
        waitpid(server_pid, &status_server, 0);
        reaped_ = true;
        if (!ok || !WIFEXITED(status_client) || WEXITSTATUS(status_client) != 0 ||
            !WIFEXITED(status_server) || WEXITSTATUS(status_server) != 0)
            throw std::runtime_error("the TCP session failed");
        // One of them wrote first; the client's result has a port.
        if (client.client_port == 0) std::swap(client, server);
        client.server_open_ms = server.server_open_ms;
        return client;
    }

    pid_t server_pid = -1;
    pid_t client_pid = -1;
    uint16_t server_port = 0;

  private:
    static double ms_since(std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
            .count();
    }
    bool wait_for(int fd) {
        char c;
        return read(fd, &c, 1) == 1;
    }
    int serve() {
        prctl(PR_SET_NAME, server_name);
        if (!wait_for(go_[0]) || listen(listen_fd_, 4) != 0) return 1;
        if (write(ready_[1], "l", 1) != 1) return 2;
        int fd = accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return 3;
        auto accepted = std::chrono::steady_clock::now();
        if (write(accepted_[1], "a", 1) != 1) return 4;
        char c;
        while (read(fd, &c, 1) > 0) {
        }
        usleep(static_cast<useconds_t>(close_wait_ms_) * 1000);
        close(fd);
        Times t;
        t.server_open_ms = ms_since(accepted);
        close(listen_fd_);
        return write(results_[1], &t, sizeof t) == sizeof t ? 0 : 5;
    }
    int connect_and_hold() {
        prctl(PR_SET_NAME, client_name);
        close(listen_fd_);
        if (!wait_for(go_[0]) || !wait_for(ready_[0])) return 1;
        int fd = socket(family_, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage addr = loopback(family_, server_port);
        auto start = std::chrono::steady_clock::now();
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 2;
        Times t;
        t.connect_ms = ms_since(start);
        t.client_port = local_port(fd);
        if (!wait_for(accepted_[0])) return 3;
        usleep(static_cast<useconds_t>(hold_ms_) * 1000);
        close(fd);
        t.client_open_ms = ms_since(start);
        return write(results_[1], &t, sizeof t) == sizeof t ? 0 : 4;
    }

    int family_;
    int hold_ms_;
    int close_wait_ms_;
    int listen_fd_ = -1;
    int go_[2] = {-1, -1};
    int ready_[2] = {-1, -1};
    int accepted_[2] = {-1, -1};
    int results_[2] = {-1, -1};
    bool reaped_ = false;
};

} // namespace itest
