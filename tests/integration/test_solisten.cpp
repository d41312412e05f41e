// solisten against the listen() calls of a named child of this test, gated
// by pipes: a TCP socket bound to 127.0.0.2 (backlog 7), an unbound TCP
// IPv6 socket (backlog 100000: the kernel caps it at somaxconn and picks a
// port), a UDP socket (EOPNOTSUPP), and two listens solisten does not show
// (a Unix socket, a pipe). Then the test itself listens: the last event,
// from another process. Instances with -p, -x, -6 and -P run beside an
// unfiltered one, each showing both sides of its filter.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace test_solisten {

using namespace itest;
using nlohmann::json;

namespace {

constexpr const char* listener_name = "cs-listener";

// What the child did, in order: fds and ports of its three inet sockets.
struct Listens {
    int fd4 = -1, fd6 = -1, fd_udp = -1;
    uint16_t port4 = 0, port6 = 0, port_udp = 0;
    int udp_errno = 0;
};

class ListeningChild {
  public:
    ListeningChild() {
        if (pipe(go_) || pipe(results_)) throw std::runtime_error("pipe failed");
        pid = fork();
        if (pid == 0) _exit(run_child());
        close(go_[0]);
        close(results_[1]);
    }
    ~ListeningChild() {
        close(go_[1]);
        close(results_[0]);
        if (!reaped_) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
    ListeningChild(const ListeningChild&) = delete;
    ListeningChild& operator=(const ListeningChild&) = delete;

    Listens run() {
        Listens l;
        if (write(go_[1], "g", 1) != 1 || read(results_[0], &l, sizeof l) != sizeof l)
            throw std::runtime_error("the listening child failed");
        int status = 0;
        waitpid(pid, &status, 0);
        reaped_ = true;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("the listening child failed");
        return l;
    }

    pid_t pid = -1;

  private:
    int run_child() {
        prctl(PR_SET_NAME, listener_name);
        close(go_[1]);
        close(results_[0]);
        char c;
        if (read(go_[0], &c, 1) != 1) return 1;
        Listens l;
        l.fd4 = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_storage a4 = loopback(AF_INET, 0);
        if (bind(l.fd4, reinterpret_cast<sockaddr*>(&a4), sizeof a4) || listen(l.fd4, 7)) return 2;
        l.port4 = local_port(l.fd4);
        l.fd6 = socket(AF_INET6, SOCK_STREAM, 0);
        if (listen(l.fd6, 100000)) return 3; // unbound: listen() picks the port
        l.port6 = local_port(l.fd6);
        l.fd_udp = socket(AF_INET, SOCK_DGRAM, 0);
        if (bind(l.fd_udp, reinterpret_cast<sockaddr*>(&a4), sizeof a4)) return 4;
        l.port_udp = local_port(l.fd_udp);
        if (listen(l.fd_udp, 5) == 0) return 5;
        l.udp_errno = errno;
        // Neither is shown: not an IPv4 or IPv6 socket.
        int unix_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un un{};
        un.sun_family = AF_UNIX; // autobind to an abstract name
        if (bind(unix_fd, reinterpret_cast<sockaddr*>(&un), sizeof(sa_family_t)) ||
            listen(unix_fd, 3))
            return 6;
        int p[2];
        if (pipe(p) || listen(p[0], 3) == 0) return 7;
        return write(results_[1], &l, sizeof l) == sizeof l ? 0 : 8;
    }

    int go_[2] = {-1, -1};
    int results_[2] = {-1, -1};
    bool reaped_ = false;
};

std::vector<json> by_pid(const std::string& out, pid_t pid) {
    std::vector<json> found;
    for (const json& r : json_lines(out))
        if (r.value("type", "") != "lost" && r.at("pid") == pid) found.push_back(r);
    return found;
}

unsigned somaxconn() {
    std::ifstream f("/proc/sys/net/core/somaxconn");
    unsigned n = 0;
    f >> n;
    return n;
}

} // namespace

TEST_CASE("solisten shows each listen() with its result, backlog, address and port, and -p, -x, "
          "-6 and -P keep theirs only",
          "[solisten]") {
    REQUIRE_BPF();
    ListeningChild child;
    ToolProcess all({tool_path("solisten"), "-o", "json"});
    ToolProcess text({tool_path("solisten"), "-T", "-p", std::to_string(child.pid)});
    ToolProcess failed({tool_path("solisten"), "-x", "-o", "json"});
    ToolProcess v6({tool_path("solisten"), "-6", "-o", "json"});
    for (ToolProcess* p : {&all, &text, &failed, &v6})
        REQUIRE(p->wait_attached());
    Listens l = child.run();
    // -P is started once the port is known; its own marker follows.
    ToolProcess port({tool_path("solisten"), "-P", std::to_string(l.port4), "-o", "json"});
    REQUIRE(port.wait_attached());
    int again = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_storage a4 = loopback(AF_INET, l.port4);
    int one = 1;
    setsockopt(again, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // The child's socket is gone with it: this one may take its port.
    REQUIRE(bind(again, reinterpret_cast<sockaddr*>(&a4), sizeof a4) == 0);
    REQUIRE(listen(again, 9) == 0);
    // The test's own listen, on a port of its own: the last event.
    int mine = socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_storage a6 = loopback(AF_INET6, 0);
    REQUIRE(bind(mine, reinterpret_cast<sockaddr*>(&a6), sizeof a6) == 0);
    REQUIRE(listen(mine, 12) == 0);
    uint16_t my_port = local_port(mine);
    REQUIRE(all.wait_for_output("\"port\":" + std::to_string(my_port)));
    close(again);
    close(mine);
    Finished r = all.stop();
    CHECK(r.exit_code == 0);
    INFO(r.out);

    std::vector<json> got = by_pid(r.out, child.pid);
    REQUIRE(got.size() == 3);
    struct Want {
        int fd, ret, backlog;
        unsigned max_backlog;
        std::string proto;
        int ip;
        std::string addr;
        uint16_t port;
    };
    std::vector<Want> want = {{l.fd4, 0, 7, 7, "TCP", 4, "127.0.0.2", l.port4},
                              {l.fd6, 0, 100000, somaxconn(), "TCP", 6, "::", l.port6},
                              {l.fd_udp, -l.udp_errno, 5, 0, "UDP", 4, "127.0.0.2", l.port_udp}};
    CHECK(l.udp_errno == EOPNOTSUPP);
    for (size_t i = 0; i < want.size(); i++) {
        const json& e = got[i];
        INFO(e.dump());
        CHECK(e.at("pid") == child.pid);
        CHECK(e.at("tid") == child.pid);
        CHECK(e.at("uid") == getuid());
        CHECK(e.at("comm") == listener_name);
        CHECK(e.at("time").is_string());
        CHECK(e.at("fd") == want[i].fd);
        CHECK(e.at("ret") == want[i].ret);
        CHECK(e.at("backlog") == want[i].backlog);
        CHECK(e.at("max_backlog") == want[i].max_backlog);
        CHECK(e.at("proto") == want[i].proto);
        CHECK(e.at("ip") == want[i].ip);
        CHECK(e.at("addr") == want[i].addr);
        CHECK(e.at("port") == want[i].port);
    }
    std::vector<json> own = by_pid(r.out, getpid());
    REQUIRE(own.size() == 2);
    CHECK(own[0].at("port") == l.port4);
    CHECK(own[0].at("backlog") == 9);
    CHECK(own[1].at("port") == my_port);
    CHECK(own[1].at("ip") == 6);
    CHECK(own[1].at("addr") == "::1");

    // Each instance's programs ran for the last event before the unfiltered
    // one showed it: stopped now, each has handed over all it would.

    // -x: the UDP socket's failure only.
    Finished rx = failed.stop();
    std::vector<json> fx = by_pid(rx.out, child.pid);
    REQUIRE(fx.size() == 1);
    CHECK(fx[0].at("ret") == -EOPNOTSUPP);
    CHECK(fx[0].at("port") == l.port_udp);
    CHECK(by_pid(rx.out, getpid()).empty());
    for (const json& e : json_lines(rx.out))
        CHECK(e.at("ret").get<int>() < 0);

    // -6: the unbound socket and the test's last one.
    Finished r6 = v6.stop();
    std::vector<json> f6 = by_pid(r6.out, child.pid);
    REQUIRE(f6.size() == 1);
    CHECK(f6[0].at("port") == l.port6);
    std::vector<json> own6 = by_pid(r6.out, getpid());
    REQUIRE(own6.size() == 1);
    CHECK(own6[0].at("port") == my_port);
    for (const json& e : json_lines(r6.out))
        CHECK(e.at("ip") == 6);

    // -P: the child's first port, taken again by the test; not the last.
    Finished rp = port.stop();
    std::vector<json> fp = json_lines(rp.out);
    REQUIRE(fp.size() == 1);
    CHECK(fp[0].at("pid") == getpid());
    CHECK(fp[0].at("port") == l.port4);
    CHECK(fp[0].at("backlog") == 9);

    // Text, -T, -p CHILD: the columns, PROTO with the IP version.
    Finished rt = text.stop();
    std::vector<std::string> out = lines(rt.out);
    REQUIRE(out.size() == 4);
    CHECK(out[0] == "TIME     PID     COMM             RET  BACKLOG PROTO   ADDR             PORT");
    std::string c = std::to_string(child.pid);
    std::vector<std::vector<std::string>> rows = {
        {c, listener_name, "0", "7", "TCPv4", "127.0.0.2", std::to_string(l.port4)},
        {c, listener_name, "0", "100000", "TCPv6", "::", std::to_string(l.port6)},
        {c, listener_name, std::to_string(-EOPNOTSUPP), "5", "UDPv4", "127.0.0.2",
         std::to_string(l.port_udp)}};
    for (size_t i = 0; i < rows.size(); i++) {
        std::vector<std::string> f = fields(out[i + 1]);
        REQUIRE(f.size() == 8);
        CHECK(f[0].size() == 8);
        CHECK(std::vector<std::string>(f.begin() + 1, f.end()) == rows[i]);
    }
}

TEST_CASE("solisten rejects -4 with -6 and a bad port with exit 2", "[solisten]") {
    CHECK(run({tool_path("solisten"), "-4", "-6"}).exit_code == 2);
    Finished r = run({tool_path("solisten"), "-P", "80,x"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'x'") != std::string::npos);
}

} // namespace test_solisten
