// bindsnoop against binds this test makes itself, on sockets whose options
// it sets: each bind's result, protocol, options, interface, port and
// address are known.
#include "harness.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <net/if.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

namespace test_bindsnoop {

using namespace itest;
using nlohmann::json;

namespace {

// A socket closed when it goes out of scope.
struct Socket {
    int fd;
    Socket(int family, int type) : fd(socket(family, type | SOCK_CLOEXEC, 0)) {
        if (fd < 0) throw std::runtime_error("socket failed");
    }
    ~Socket() { close(fd); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    void set(int level, int name, int value = 1) {
        if (setsockopt(fd, level, name, &value, sizeof value) != 0)
            throw std::runtime_error("setsockopt failed");
    }
    // bind() to loopback: 0 or -errno.
    int bind_loopback(int family, uint16_t port) {
        sockaddr_storage addr = loopback(family, port);
        socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        return ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 ? 0 : -errno;
    }
};

// A loopback port free a moment ago (bound, then closed).
uint16_t free_port(int family, int type) {
    Socket s(family, type);
    if (s.bind_loopback(family, 0) != 0) throw std::runtime_error("bind failed");
    return local_port(s.fd);
}

// Text rows (split into fields) for binds to port and address, the last two
// columns.
std::vector<std::vector<std::string>> rows_on(const std::string& text, uint16_t port,
                                              const std::string& addr) {
    std::vector<std::vector<std::string>> out;
    for (const std::string& line : lines(text)) {
        std::vector<std::string> f = fields(line);
        if (f.size() >= 2 && f[f.size() - 2] == std::to_string(port) && f.back() == addr)
            out.push_back(std::move(f));
    }
    return out;
}

std::vector<json> records(const std::string& out) {
    std::vector<json> all;
    for (const std::string& line : lines(out))
        all.push_back(json::parse(line));
    return all;
}

} // namespace

TEST_CASE("bindsnoop shows each bind with its result, protocol, options, interface, port and "
          "address",
          "[bindsnoop]") {
    REQUIRE_BPF();
    ToolProcess p({tool_path("bindsnoop"), "-p", self_pid()});
    REQUIRE(p.wait_attached());
    // TCP with SO_REUSEADDR to 127.0.0.2, port 0: the kernel picks one.
    Socket reuse(AF_INET, SOCK_STREAM);
    reuse.set(SOL_SOCKET, SO_REUSEADDR);
    REQUIRE(reuse.bind_loopback(AF_INET, 0) == 0);
    uint16_t taken = local_port(reuse.fd);
    // The same port again without SO_REUSEADDR: EADDRINUSE.
    Socket clash(AF_INET, SOCK_STREAM);
    REQUIRE(clash.bind_loopback(AF_INET, taken) == -EADDRINUSE);
    // UDP over IPv6 with SO_REUSEPORT, IPV6_FREEBIND and bound to lo.
    Socket udp(AF_INET6, SOCK_DGRAM);
    udp.set(SOL_SOCKET, SO_REUSEPORT);
    udp.set(IPPROTO_IPV6, IPV6_FREEBIND);
    REQUIRE(setsockopt(udp.fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) == 0);
    REQUIRE(udp.bind_loopback(AF_INET6, 0) == 0);
    uint16_t udp_port = local_port(udp.fd);
    // IP_TRANSPARENT and IP_BIND_ADDRESS_NO_PORT: no port is taken yet.
    Socket noport(AF_INET, SOCK_STREAM);
    noport.set(IPPROTO_IP, IP_TRANSPARENT);
    noport.set(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT);
    REQUIRE(noport.bind_loopback(AF_INET, 0) == 0);
    REQUIRE(p.wait_for_output(".TN.."));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out)[0] == "PID     COMM              RET PROTO OPTS   IF  PORT ADDR");

    auto on_taken = rows_on(r.out, taken, "127.0.0.2");
    REQUIRE(on_taken.size() == 2);
    for (const auto& row : on_taken) {
        REQUIRE(row.size() == 8);
        CHECK(row[0] == self_pid());
        CHECK(row[3] == "TCP");
        CHECK(row[5] == "0");
    }
    CHECK(on_taken[0][2] == "0");
    CHECK(on_taken[0][4] == "...R.");
    CHECK(on_taken[1][2] == "-98");
    CHECK(on_taken[1][4] == ".....");

    auto on_udp = rows_on(r.out, udp_port, "::1");
    REQUIRE(on_udp.size() == 1);
    REQUIRE(on_udp[0].size() == 8);
    CHECK(on_udp[0][2] == "0");
    CHECK(on_udp[0][3] == "UDP");
    CHECK(on_udp[0][4] == "F...r");
    CHECK(on_udp[0][5] == std::to_string(if_nametoindex("lo")));

    auto transparent = lines_containing(r.out, ".TN..");
    REQUIRE(transparent.size() == 1);
    CHECK(fields(transparent[0]) == std::vector<std::string>{self_pid(), fields(transparent[0])[1],
                                                             "0", "TCP", ".TN..", "0", "0",
                                                             "127.0.0.2"});
}

TEST_CASE("bindsnoop -x and JSON: only the failed bind, with its errno", "[bindsnoop]") {
    REQUIRE_BPF();
    ToolProcess p({tool_path("bindsnoop"), "-x", "-o", "json", "-p", self_pid()});
    REQUIRE(p.wait_attached());
    Socket first(AF_INET, SOCK_STREAM);
    REQUIRE(first.bind_loopback(AF_INET, 0) == 0);
    uint16_t taken = local_port(first.fd);
    Socket clash(AF_INET, SOCK_STREAM);
    REQUIRE(clash.bind_loopback(AF_INET, taken) == -EADDRINUSE);
    REQUIRE(p.wait_for_output("\"errno\":98"));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    auto all = records(r.out);
    REQUIRE(all.size() == 1); // the bind that worked is left out
    const json& e = all[0];
    CHECK(e.at("pid") == getpid());
    CHECK(e.at("tid") == gettid());
    CHECK(e.at("uid") == getuid());
    CHECK(e.at("comm").is_string());
    CHECK(e.at("time").is_string());
    CHECK(e.at("ret") == -EADDRINUSE);
    CHECK(e.at("errno") == EADDRINUSE);
    CHECK(e.at("fd") == clash.fd);
    CHECK(e.at("ip") == 4);
    CHECK(e.at("protocol") == "TCP");
    CHECK(e.at("type") == "STREAM");
    CHECK(e.at("options") == json::array());
    CHECK(e.at("bound_if") == 0);
    CHECK(e.at("port") == taken);
    CHECK(e.at("bound_port").is_null());
    CHECK(e.at("addr") == "127.0.0.2");
}

TEST_CASE("bindsnoop -P and JSON: only binds to the chosen port", "[bindsnoop]") {
    REQUIRE_BPF();
    uint16_t wanted = free_port(AF_INET6, SOCK_DGRAM);
    ToolProcess p(
        {tool_path("bindsnoop"), "-P", std::to_string(wanted), "-o", "json", "-p", self_pid()});
    REQUIRE(p.wait_attached());
    Socket other(AF_INET6, SOCK_DGRAM); // port 0: the kernel's choice, not wanted
    REQUIRE(other.bind_loopback(AF_INET6, 0) == 0);
    Socket udp(AF_INET6, SOCK_DGRAM);
    udp.set(SOL_SOCKET, SO_REUSEADDR);
    udp.set(SOL_SOCKET, SO_REUSEPORT);
    REQUIRE(udp.bind_loopback(AF_INET6, wanted) == 0);
    REQUIRE(p.wait_for_output("\"port\":" + std::to_string(wanted)));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    auto all = records(r.out);
    REQUIRE(all.size() == 1);
    const json& e = all[0];
    CHECK(e.at("pid") == getpid());
    CHECK(e.at("ret") == 0);
    CHECK(e.at("errno") == 0);
    CHECK(e.at("fd") == udp.fd);
    CHECK(e.at("ip") == 6);
    CHECK(e.at("protocol") == "UDP");
    CHECK(e.at("type") == "DGRAM");
    CHECK(e.at("options") == json::array({"REUSEADDR", "REUSEPORT"}));
    CHECK(e.at("port") == wanted);
    CHECK(e.at("bound_port") == wanted);
    CHECK(e.at("addr") == "::1");
}

} // namespace test_bindsnoop
