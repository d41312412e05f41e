// tcpretrans against retransmissions this test provokes: a connection on
// the loopback of a network namespace of its own, where an nftables rule
// drops the segments to the server for a while after the connection is
// established, so the client must send them again.
#include "harness.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace itest;
using nlohmann::json;

namespace {

#define REQUIRE_BPF()                                                                              \
    do {                                                                                           \
        std::string why = bpf_unavailable_reason();                                                \
        if (!why.empty()) {                                                                        \
            WARN("SKIPPED: " << why);                                                              \
            return;                                                                                \
        }                                                                                          \
    } while (0)

bool have_command(const std::string& name) {
    return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

bool sh(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

// A network namespace with its loopback up; deleted on destruction.
class NetNamespace {
  public:
    NetNamespace() : name_(unique_token("cs-tcpretrans")) {
        ok_ = sh("ip netns add " + name_) && sh("ip netns exec " + name_ + " ip link set lo up");
    }
    ~NetNamespace() { sh("ip netns del " + name_); }
    NetNamespace(const NetNamespace&) = delete;
    NetNamespace& operator=(const NetNamespace&) = delete;
    bool ok() const { return ok_; }
    const std::string& name() const { return name_; }
    // Runs a shell command inside the namespace.
    bool exec(const std::string& command) const {
        return sh("ip netns exec " + name_ + " " + command);
    }
    // Moves the calling process into the namespace.
    bool enter() const {
        int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
        bool entered = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
        if (fd >= 0) close(fd);
        return entered;
    }

  private:
    std::string name_;
    bool ok_ = false;
};

uint16_t local_port(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
}

struct Ports {
    uint16_t client = 0;
    uint16_t server = 0;
};

// In a child inside ns: a connection from 127.0.0.1 to 127.0.0.2; then segments to the
// server port are dropped for drop_ms while the client sends, so it
// retransmits; then the rule goes and the data must arrive. Returns the
// ports, or zeros when the workload could not run.
Ports provoke_retransmissions(const NetNamespace& ns, int drop_ms) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return {};
    pid_t child = fork();
    if (child == 0) {
        Ports ports;
        if (!ns.enter()) _exit(1);
        int listener = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1); // 127.0.0.2; the client is 127.0.0.1
        if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(listener, 1) != 0)
            _exit(2);
        ports.server = local_port(listener);
        addr.sin_port = htons(ports.server);
        int client = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(3);
        int server = accept(listener, nullptr, nullptr);
        if (server < 0) _exit(4);
        ports.client = local_port(client);
        std::string port = std::to_string(ports.server);
        if (!ns.exec("nft add table inet cs_drop") ||
            !ns.exec("nft add chain inet cs_drop input '{ type filter hook input priority 0; }'") ||
            !ns.exec("nft add rule inet cs_drop input tcp dport " + port + " drop"))
            _exit(5);
        char data[1000] = {};
        if (send(client, data, sizeof data, 0) != static_cast<ssize_t>(sizeof data)) _exit(6);
        std::this_thread::sleep_for(std::chrono::milliseconds(drop_ms));
        if (!ns.exec("nft delete table inet cs_drop")) _exit(7);
        size_t got = 0;
        while (got < sizeof data) {
            ssize_t n = recv(server, data, sizeof data - got, 0);
            if (n <= 0) _exit(8);
            got += static_cast<size_t>(n);
        }
        _exit(write(pipefd[1], &ports, sizeof ports) == sizeof ports ? 0 : 9);
    }
    close(pipefd[1]);
    Ports ports;
    if (read(pipefd[0], &ports, sizeof ports) != sizeof ports) ports = {};
    close(pipefd[0]);
    int status = 0;
    waitpid(child, &status, 0);
    INFO("workload exit status " << WEXITSTATUS(status));
    return ports;
}

#define REQUIRE_NETNS_TOOLS()                                                                      \
    do {                                                                                           \
        if (!have_command("nft") || !have_command("ip")) {                                         \
            WARN("SKIPPED: needs nft and ip (scripts/setup.sh installs nftables and iproute2)");   \
            return;                                                                                \
        }                                                                                          \
    } while (0)

std::vector<std::string> fields(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string f; in >> f;)
        out.push_back(f);
    return out;
}

} // namespace

TEST_CASE("tcpretrans reports retransmissions with the connection's addresses and ports",
          "[tcpretrans]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns;
    REQUIRE(ns.ok());
    ToolProcess text({tool_path("tcpretrans")});
    ToolProcess jsonl({tool_path("tcpretrans"), "-o", "json"});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    Ports ports = provoke_retransmissions(ns, 700);
    REQUIRE(ports.client != 0);
    std::string local = "127.0.0.1:" + std::to_string(ports.client);
    std::string remote = "127.0.0.2:" + std::to_string(ports.server);
    REQUIRE(text.wait_for_output(local));
    REQUIRE(jsonl.wait_for_output("\"lport\":" + std::to_string(ports.client)));
    Finished t = text.stop();
    Finished j = jsonl.stop();
    CHECK(t.exit_code == 0);
    CHECK(lines(t.out)[0] ==
          "TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE");

    int text_hits = 0;
    for (const std::string& line : lines(t.out)) {
        auto f = fields(line);
        if (f.size() != 7 || f[3] != local) continue;
        text_hits++;
        CHECK(f[0].size() == 8); // HH:MM:SS
        CHECK(f[2] == "4");
        CHECK(f[4] == "R>");
        CHECK(f[5] == remote);
        CHECK(f[6] == "ESTABLISHED");
    }
    CHECK(text_hits >= 1);

    int json_hits = 0;
    for (const std::string& line : lines(j.out)) {
        json e = json::parse(line);
        if (e.at("lport") != ports.client) continue;
        json_hits++;
        CHECK(e.at("laddr") == "127.0.0.1");
        CHECK(e.at("raddr") == "127.0.0.2");
        CHECK(e.at("rport") == ports.server);
        CHECK(e.at("ip") == 4);
        CHECK(e.at("type") == "retransmit");
        CHECK(e.at("state") == "ESTABLISHED");
        CHECK(e.at("pid").is_number());
    }
    CHECK(json_hits >= 1);
}

TEST_CASE("tcpretrans --count counts a connection's retransmissions", "[tcpretrans]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns;
    REQUIRE(ns.ok());
    ToolProcess counter({tool_path("tcpretrans"), "--count", "-o", "json"});
    ToolProcess tracer({tool_path("tcpretrans"), "-o", "json"});
    REQUIRE(counter.wait_attached());
    REQUIRE(tracer.wait_attached());
    Ports ports = provoke_retransmissions(ns, 700);
    REQUIRE(ports.client != 0);
    REQUIRE(tracer.wait_for_output("\"lport\":" + std::to_string(ports.client)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Finished c = counter.stop();
    Finished t = tracer.stop();
    CHECK(c.exit_code == 0);
    uint64_t traced = 0;
    for (const std::string& line : lines(t.out))
        if (json::parse(line).at("lport") == ports.client) traced++;
    uint64_t counted = 0;
    int rows = 0;
    for (const std::string& line : lines(c.out)) {
        json e = json::parse(line);
        if (e.at("lport") != ports.client) continue;
        rows++;
        CHECK(e.at("rport") == ports.server);
        CHECK(e.at("laddr") == "127.0.0.1");
        counted = e.at("retransmits").get<uint64_t>();
    }
    CHECK(rows == 1);
    CHECK(counted >= 1);
    CHECK(counted == traced); // the same retransmissions, counted in the kernel
}

TEST_CASE("tcpretrans -l either traces loss probes or says in one line what the kernel lacks",
          "[tcpretrans]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("tcpretrans"), "-l", "--dry-run"});
    if (r.exit_code == 0) {
        CHECK(r.out.find("tcp_send_loss_probe") != std::string::npos);
    } else {
        CHECK(r.exit_code == 1);
        CHECK(lines(r.err).size() == 1);
        CHECK(r.err.find("tail loss probes") != std::string::npos);
        CHECK(r.err.find("kprobe") != std::string::npos);
        CHECK(r.out.empty());
    }
    // Without -l nothing needs fentry or kprobes.
    Finished plain = run({tool_path("tcpretrans"), "--dry-run"});
    CHECK(plain.exit_code == 0);
    CHECK(plain.out.find("tcp_send_loss_probe") == std::string::npos);
}
