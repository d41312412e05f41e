// tcpcong against a connection of the test's own, on the loopback of a
// network namespace it creates, that must go through the loss state: an
// nftables rule drops every segment to the server while the client sends,
// until the client's retransmission timer has put it in the loss state
// (TCP_INFO says so); then the rule goes, the next retransmission gets
// through, and the client is open again (the test waits for that too).
// The loss lasts at least from the first retransmission to the second,
// which the timer's doubling puts 400 ms apart or more (its floor is
// 200 ms). The server side never leaves open.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <regex>
#include <set>
#include <filesystem>
#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace test_tcpcong {

using namespace itest;
using nlohmann::json;

namespace {

constexpr uint16_t server_port = 47395;
constexpr uint16_t client_port = 47396;
// The least time the client spends in loss (see above), with a margin.
constexpr double min_loss_ms = 300;

// True once fd's congestion state is state (TCP_CA_*), false after 30 s.
// It spins, not sleeps: see lossy_connection.
bool wait_ca_state(int fd, int state) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
        tcp_info info{};
        socklen_t len = sizeof info;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
        if (info.tcpi_ca_state == state) return true;
    }
    return false;
}

// In a child inside ns: client_port on 127.0.0.1 connects to server_port
// on 127.0.0.2, its data is dropped until the client is in loss, then must
// arrive; both close once the client is open again. True when it all went
// so.
bool lossy_connection(const NetNamespace& ns) {
    pid_t child = fork();
    if (child == 0) {
        // The client's changes of state happen in softirqs, the
        // retransmission timer's and the ACK's after it, on the CPU that
        // sent: one CPU, kept busy by this child waiting, makes them
        // mostly interrupt this child rather than another task (see
        // KernelChanges).
        cpu_set_t allowed, one;
        if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) _exit(12);
        CPU_ZERO(&one);
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &allowed)) {
                CPU_SET(cpu, &one);
                break;
            }
        if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(12);
        if (!ns.enter()) _exit(1);
        int listener = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_storage server = loopback(AF_INET, server_port);
        if (bind(listener, reinterpret_cast<sockaddr*>(&server), sizeof(sockaddr_in)) != 0 ||
            listen(listener, 1) != 0)
            _exit(2);
        int client = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        local.sin_port = htons(client_port);
        if (bind(client, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) _exit(3);
        if (connect(client, reinterpret_cast<sockaddr*>(&server), sizeof(sockaddr_in)) != 0)
            _exit(4);
        int conn = accept(listener, nullptr, nullptr);
        if (conn < 0) _exit(5);
        std::string port = std::to_string(server_port);
        if (!ns.exec("nft add table inet cs_cong") ||
            !ns.exec("nft add chain inet cs_cong input '{ type filter hook input priority 0; }'") ||
            !ns.exec("nft add rule inet cs_cong input tcp dport " + port + " drop"))
            _exit(6);
        char data[1000] = {};
        if (send(client, data, sizeof data, 0) != static_cast<ssize_t>(sizeof data)) _exit(7);
        if (!wait_ca_state(client, TCP_CA_Loss)) _exit(10);
        if (!ns.exec("nft delete table inet cs_cong")) _exit(8);
        size_t got = 0;
        while (got < sizeof data) {
            ssize_t n = recv(conn, data, sizeof data - got, 0);
            if (n <= 0) _exit(9);
            got += static_cast<size_t>(n);
        }
        if (!wait_ca_state(client, TCP_CA_Open)) _exit(11);
        close(client);
        close(conn);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The rows of every table whose local and remote ports are these.
std::vector<json> rows_of(const std::string& out, uint16_t lport, uint16_t rport) {
    std::vector<json> rows;
    for (const json& table : json_lines(out))
        for (const json& row : table.value("entries", json::array())) // not a notice's
            if (row.at("lport") == lport && row.at("rport") == rport) rows.push_back(row);
    return rows;
}

// The client's changes of congestion state as the kernel made them,
// recorded by ftrace, which runs where BPF programs may not: on this
// suite's sandbox a softirq on top of its agent's thread runs none, for
// any tool (bpf_blind_task). A change made there is one tcpcong cannot
// count; every other it must.
struct KernelChanges {
    uint64_t all = 0;
    uint64_t blind = 0;
    bool loss_entry_blind = false; // the first change, into loss, was blind
};

KernelChanges kernel_changes(const TraceInstance& trace) {
    KernelChanges k;
    int state = TCP_CA_Open;
    for (const TraceInstance::Record& r : trace.records()) {
        size_t at = r.fields.find("cong_state=");
        if (at == std::string::npos) continue;
        int now = std::atoi(r.fields.c_str() + at + std::strlen("cong_state="));
        if (now == state) continue;
        state = now;
        k.all++;
        if (!bpf_blind_task(r.task)) continue;
        k.blind++;
        if (k.all == 1) k.loss_entry_blind = true;
    }
    return k;
}

// A client's changes and time in loss: into loss and back to open at
// least (maybe through recovery or disorder on the way out); with the
// kernel's record, every change it made where BPF runs. Without one
// (tracefs instances unavailable), all of them.
void check_client_changes(uint64_t changes, double loss_ms, const KernelChanges* kernel) {
    if (kernel) {
        INFO("the kernel made " << kernel->all << " changes, " << kernel->blind
                                << " where no BPF program runs");
        CHECK(kernel->all >= 2);
        CHECK(changes <= kernel->all);
        CHECK(changes + kernel->blind >= kernel->all);
        if (kernel->blind) WARN("a change of state was made where no BPF program runs");
    } else {
        CHECK(changes >= 2);
    }
    // Missing the change into loss, the tool starts its loss late.
    if (!kernel || !kernel->loss_entry_blind) CHECK(loss_ms >= min_loss_ms);
}

void check_client(const json& row, const KernelChanges* kernel) {
    INFO(row.dump());
    CHECK(row.at("laddr") == "127.0.0.1");
    CHECK(row.at("raddr") == "127.0.0.2");
    CHECK(row.at("ip") == 4);
    check_client_changes(row.at("changes").get<uint64_t>(), row.at("loss_ms").get<double>(),
                         kernel);
    CHECK(row.at("open_ms").get<double>() > 0);
    CHECK(row.at("closed") == true);
}

void check_server(const json& row) {
    INFO(row.dump());
    CHECK(row.at("changes") == 0);
    CHECK(row.at("loss_ms") == 0);
    CHECK(row.at("recovery_ms") == 0);
    // Open all along, through the client's loss.
    CHECK(row.at("open_ms").get<double>() >= min_loss_ms);
    CHECK(row.at("closed") == true);
}

} // namespace

TEST_CASE("tcpcong times the loss state of a connection whose segments are dropped, with "
          "each filter's both sides",
          "[tcpcong]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns("cs-tcpcong");
    REQUIRE(ns.ok());
    std::string sport = std::to_string(server_port);
    ToolProcess text({tool_path("tcpcong"), "-R", sport});
    ToolProcess all({tool_path("tcpcong"), "-o", "json", "-4"});
    ToolProcess server({tool_path("tcpcong"), "-o", "json", "-L", sport});
    ToolProcess v6({tool_path("tcpcong"), "-o", "json", "-6", "-R", sport});
    for (ToolProcess* p : {&text, &all, &server, &v6})
        REQUIRE(p->wait_attached());
    TraceInstance trace("tcp/tcp_cong_state_set", "sport == " + std::to_string(client_port));
    REQUIRE(lossy_connection(ns));
    KernelChanges kernel = kernel_changes(trace);
    const KernelChanges* known = trace.ok() ? &kernel : nullptr;
    Finished t = text.stop();
    Finished a = all.stop();
    Finished s = server.stop();
    Finished v = v6.stop();
    for (const Finished* f : {&t, &a, &s, &v})
        CHECK(f->exit_code == 0);

    // Text: the client's row only (-R: its remote port is the server's).
    INFO(t.out);
    std::vector<std::string> out = lines(t.out);
    REQUIRE(!out.empty());
    CHECK(fields(out[0]) == std::vector<std::string>{"LADDR:LPORT", "RADDR:RPORT", "OPEN_MS",
                                                     "DISORD_MS", "CWR_MS", "RECOV_MS", "LOSS_MS",
                                                     "CHGS"});
    int client_lines = 0;
    for (const std::string& line : out) {
        auto f = fields(line);
        CHECK(f[0] != "127.0.0.2:" + sport); // the server's side
        if (f[0] != "127.0.0.1:" + std::to_string(client_port)) continue;
        client_lines++;
        REQUIRE(f.size() == 8);
        CHECK(f[1] == "127.0.0.2:" + sport);
        check_client_changes(std::stoul(f[7]), std::stod(f[6]), known);
    }
    CHECK(client_lines == 1);

    // JSON, all: both sides.
    std::vector<json> client = rows_of(a.out, client_port, server_port);
    std::vector<json> server_rows = rows_of(a.out, server_port, client_port);
    REQUIRE(client.size() == 1);
    REQUIRE(server_rows.size() == 1);
    check_client(client[0], known);
    check_server(server_rows[0]);
    json table = json_lines(a.out).back();
    CHECK(table.at("connections").get<uint64_t>() >= 2);
    CHECK(table.at("interval_s").get<double>() > 0);

    // -L: the server's side only.
    CHECK(rows_of(s.out, client_port, server_port).empty());
    server_rows = rows_of(s.out, server_port, client_port);
    REQUIRE(server_rows.size() == 1);
    check_server(server_rows[0]);

    // -6: nothing of this IPv4 connection.
    CHECK(rows_of(v.out, client_port, server_port).empty());
}

TEST_CASE("tcpcong times the loss state through each tier", "[tcpcong]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns("cs-tcpcong");
    REQUIRE(ns.ok());
    std::vector<std::string> argv = {tool_path("tcpcong"),       "-v", "-o", "json", "-R",
                                     std::to_string(server_port)};
    ToolProcess raw(argv, ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf", 1); });
    ToolProcess tp(argv, ToolProcess::Stdout::pipe,
                   [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf,raw_tp", 1); });
    REQUIRE(raw.wait_attached());
    REQUIRE(tp.wait_attached());
    TraceInstance trace("tcp/tcp_cong_state_set", "sport == " + std::to_string(client_port));
    REQUIRE(lossy_connection(ns));
    KernelChanges kernel = kernel_changes(trace);
    const KernelChanges* known = trace.ok() ? &kernel : nullptr;
    Finished r = raw.stop();
    Finished t = tp.stop();
    CHECK(r.err.find("TCP congestion state changes: raw_tp:tcp_cong_state_set") !=
          std::string::npos);
    CHECK(t.err.find("TCP congestion state changes: tracepoint:tcp:tcp_cong_state_set") !=
          std::string::npos);
    for (const Finished* f : {&r, &t}) {
        INFO(f->err);
        CHECK(f->exit_code == 0);
        std::vector<json> client = rows_of(f->out, client_port, server_port);
        REQUIRE(client.size() == 1);
        // A run the kernel skipped (the tool said so) may have been this
        // connection's change of state: then its times are not the test's.
        if (skipped_on_stderr(f->err) > 0)
            WARN("the kernel skipped runs of tcpcong's programs: " + f->err);
        else
            check_client(client[0], known);
    }
}

// A closed connection's socket is freed at once, and TCP's slab hands the
// same memory to the next sockets made on that CPU. The closed
// connection's final row must still be printed, not be overwritten by the
// new connection on the same socket address (a busy machine's other
// connections once took the -T case's session that way).
TEST_CASE("tcpcong prints a closed connection whose socket a new connection took", "[tcpcong]") {
    REQUIRE_BPF();
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof server;
    REQUIRE(listener >= 0);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
    REQUIRE(listen(listener, 64) == 0);
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&server), &len) == 0);
    uint16_t port = ntohs(server.sin_port);
    // No filter: a filtered-out connection is not tracked, so could not
    // take the socket's entry. One CPU: its slab hands out the sockets it
    // freed last first.
    ToolProcess tool({tool_path("tcpcong"), "-o", "json"});
    REQUIRE(tool.wait_attached());
    cpu_set_t allowed, one;
    REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed)) {
            CPU_SET(cpu, &one);
            break;
        }
    REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
    // One connection, closed by both ends...
    auto connect_one = [&](int* accepted) {
        int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(client >= 0);
        REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
        *accepted = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        REQUIRE(*accepted >= 0);
        return client;
    };
    int accepted = -1;
    int first = connect_one(&accepted);
    sockaddr_in local{};
    len = sizeof local;
    REQUIRE(getsockname(first, reinterpret_cast<sockaddr*>(&local), &len) == 0);
    uint16_t first_port = ntohs(local.sin_port);
    // A reset on close: the socket is done at once, not in FIN_WAIT.
    linger reset{1, 0};
    REQUIRE(setsockopt(first, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0);
    close(first);
    close(accepted);
    // ...then more connections, made (and left open) on the sockets it freed.
    constexpr int later = 40;
    std::vector<int> fds;
    std::set<uint16_t> later_ports;
    for (int i = 0; i < later; i++) {
        int client = connect_one(&accepted);
        fds.push_back(client);
        fds.push_back(accepted);
        len = sizeof local;
        REQUIRE(getsockname(client, reinterpret_cast<sockaddr*>(&local), &len) == 0);
        later_ports.insert(ntohs(local.sin_port));
    }
    sched_setaffinity(0, sizeof allowed, &allowed);
    Finished f = tool.stop();
    for (int fd : fds)
        close(fd);
    close(listener);
    CHECK(f.exit_code == 0);
    INFO(f.out);
    std::vector<json> closed_rows = rows_of(f.out, first_port, port);
    REQUIRE(closed_rows.size() == 1);
    CHECK(closed_rows[0].at("closed") == true);
    std::set<uint16_t> open_ports;
    for (const json& table : json_lines(f.out))
        for (const json& row : table.at("entries"))
            if (row.at("rport") == port && row.at("lport") != first_port &&
                later_ports.count(row.at("lport").get<uint16_t>())) {
                CHECK(row.at("closed") == false);
                open_ports.insert(row.at("lport").get<uint16_t>());
            }
    CHECK(open_ports == later_ports);
}

// -T, --btf and -d, which the cases above do not take: the time line opens
// the summary, the kernel's types come from a copy of its BTF, and the
// tool ends by itself after -d.
TEST_CASE("tcpcong -T with --btf ends by itself after -d, with a loopback session's events",
          "[tcpcong]") {
    REQUIRE_BPF();
    TimedSummary run = timed_summary_with_btf_copy("tcpcong");
    const std::vector<std::string>& out = run.lines;
    INFO(run.out);
    // The header, and the session's client row: open all along.
    REQUIRE(out.size() >= 2);
    CHECK(fields(out[1]).at(0) == "LADDR:LPORT");
    int rows = 0;
    for (const std::string& line : out) {
        auto f = fields(line);
        if (f.size() != 8 || f[1] != "127.0.0.1:" + std::to_string(run.port)) continue;
        rows++;
        CHECK(f[6] == "0");
        CHECK(f[7] == "0");
    }
    CHECK(rows == 1);
}

} // namespace test_tcpcong
