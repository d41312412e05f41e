// tcppktlat against a session this test runs between two processes of its
// own on loopback, 127.0.0.1 -> 127.0.0.2: the server reads a first message
// as soon as it arrives (it is already waiting in recv()), answers one
// byte, which the client reads as soon as it arrives, and then lets the
// second message wait: it polls until the data is there, sleeps hold_ms,
// and only then reads. So the server's second read waited at least hold_ms
// (the tool's arrival stamp is taken before poll() can see the data), and
// the other two far less.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <regex>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_tcppktlat {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int hold_ms = 300;
constexpr size_t quick_bytes = 1000, slow_bytes = 2000;
const char* client_name = "cs-pktlat-cli";
const char* server_name = "cs-pktlat-srv";

bool send_all(int fd, size_t n) {
    std::vector<char> buf(n, 'p');
    return send(fd, buf.data(), n, MSG_NOSIGNAL) == static_cast<ssize_t>(n);
}

bool recv_all(int fd, size_t n) {
    std::vector<char> buf(n);
    return recv(fd, buf.data(), n, MSG_WAITALL) == static_cast<ssize_t>(n);
}

struct Session {
    int listener = -1;
    uint16_t server_port = 0;
    uint16_t client_port = 0;
    pid_t server = -1;
    int ports[2] = {-1, -1};
    std::unique_ptr<GatedChild> client;

    Session() {
        listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage addr = loopback(AF_INET, 0);
        REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(sockaddr_in)) == 0);
        REQUIRE(listen(listener, 1) == 0);
        server_port = local_port(listener);
        REQUIRE(pipe(ports) == 0);
        server = fork();
        REQUIRE(server >= 0);
        if (server == 0) {
            prctl(PR_SET_NAME, server_name);
            int fd = accept(listener, nullptr, nullptr);
            bool ok = fd >= 0 && recv_all(fd, quick_bytes) && send_all(fd, 1);
            pollfd p{fd, POLLIN, 0};
            ok = ok && poll(&p, 1, 30000) == 1;
            usleep(hold_ms * 1000);
            ok = ok && recv_all(fd, slow_bytes);
            char c;
            while (ok && recv(fd, &c, 1, 0) > 0) {
            }
            _exit(ok ? 0 : 1);
        }
        client = std::make_unique<GatedChild>(
            [this] {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                sockaddr_storage to = loopback(AF_INET, server_port);
                if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(sockaddr_in)) != 0)
                    return 1;
                uint16_t port = local_port(fd);
                if (write(ports[1], &port, sizeof port) != sizeof port) return 2;
                bool ok = send_all(fd, quick_bytes) && recv_all(fd, 1) && send_all(fd, slow_bytes);
                close(fd);
                return ok ? 0 : 3;
            },
            client_name);
    }
    ~Session() {
        close(listener);
        close(ports[0]);
        close(ports[1]);
        if (server > 0) {
            kill(server, SIGKILL);
            waitpid(server, nullptr, 0);
        }
    }
    void run() {
        REQUIRE(client->run() == 0);
        REQUIRE(read(ports[0], &client_port, sizeof client_port) == sizeof client_port);
        int status = 0;
        REQUIRE(waitpid(server, &status, 0) == server);
        pid_t reaped = server;
        server = -1;
        REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        server = -reaped; // reaped: kept for the checks, negative for the destructor
    }
    pid_t server_pid() const { return server > 0 ? server : -server; }
};

std::unique_ptr<ToolProcess> start(std::vector<std::string> args, const char* skip = "") {
    args.insert(args.begin(), tool_path("tcppktlat"));
    return std::make_unique<ToolProcess>(args, ToolProcess::Stdout::pipe,
                                         [skip] { setenv("CORESCOPE_SKIP_ATTACH", skip, 1); });
}

// The session's records (the host's other TCP reads left out).
std::vector<json> session_records(ToolProcess& p, const Session& s) {
    Finished f = p.stop();
    CHECK(f.exit_code == 0);
    INFO(f.out << f.err);
    std::vector<json> out;
    for (const json& r : json_lines(f.out)) {
        bool server = r.at("lport") == s.server_port && r.at("rport") == s.client_port;
        bool client = r.at("lport") == s.client_port && r.at("rport") == s.server_port;
        if (server || client) out.push_back(r);
    }
    return out;
}

// The server's two reads: the quick one, then the one that waited.
void check_server_reads(const std::vector<json>& records, const Session& s) {
    std::vector<json> server;
    for (const json& r : records)
        if (r.at("pid") == s.server_pid()) server.push_back(r);
    REQUIRE(server.size() == 2);
    for (const json& r : server) {
        INFO(r.dump());
        CHECK(r.at("tid") == s.server_pid());
        CHECK(r.at("comm") == server_name);
        CHECK(r.at("ip") == 4);
        CHECK(r.at("laddr") == "127.0.0.2");
        CHECK(r.at("lport") == s.server_port);
        CHECK(r.at("raddr") == "127.0.0.1");
        CHECK(r.at("rport") == s.client_port);
    }
    CHECK(server[0].at("wait_ms").get<double>() < hold_ms);
    CHECK(server[1].at("wait_ms").get<double>() >= hold_ms);
}

} // namespace

TEST_CASE("tcppktlat times how long data waited for the reader, with its filters and on "
          "every tier",
          "[tcppktlat]") {
    REQUIRE_BPF();
    Session s;
    std::string server = std::to_string(s.server_pid());
    std::string sport = std::to_string(s.server_port);
    auto all = start({"-o", "json"});
    auto slow = start({"-o", "json", "--min", std::to_string(hold_ms / 2), "-l", sport});
    auto remote = start({"-o", "json", "-r", sport});
    auto text = start({"-w", "-p", server});
    auto raw = start({"-o", "json", "-p", server}, "tp_btf");
    auto tracefs = start({"-o", "json", "-p", server}, "tp_btf,raw_tp");
    for (auto* t : {all.get(), slow.get(), remote.get(), text.get(), raw.get(), tracefs.get()})
        REQUIRE(t->wait_attached());
    s.run();
    pid_t client = s.client->pid();

    // Every read: the server's two, and the client's read of the answer.
    std::vector<json> records = session_records(*all, s);
    check_server_reads(records, s);
    size_t client_reads = 0;
    for (const json& r : records)
        if (r.at("pid") == client) {
            client_reads++;
            CHECK(r.at("comm") == client_name);
            CHECK(r.at("lport") == s.client_port);
            CHECK(r.at("wait_ms").get<double>() < hold_ms);
        }
    CHECK(client_reads == 1);
    CHECK(records.size() == 3);

    // --min and -l: only the read that waited.
    records = session_records(*slow, s);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("pid") == s.server_pid());
    CHECK(records[0].at("wait_ms").get<double>() >= hold_ms);

    // -r: the reads whose remote port is the server's, the client's.
    records = session_records(*remote, s);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("pid") == client);

    for (auto* tier : {raw.get(), tracefs.get()}) {
        records = session_records(*tier, s);
        check_server_reads(records, s);
    }

    Finished f = text->stop();
    CHECK(f.exit_code == 0);
    std::vector<std::string> out = lines(f.out);
    INFO(f.out);
    REQUIRE(out.size() == 3);
    CHECK(std::regex_match(out[0], std::regex("PID +TID +COMM +LADDR +LPORT +RADDR +RPORT +MS")));
    std::string line = server + " +" + server + " +" + server_name + " +127\\.0\\.0\\.2 +" + sport +
                       " +127\\.0\\.0\\.1 +" + std::to_string(s.client_port) + " +";
    std::smatch m;
    REQUIRE(std::regex_match(out[1], m, std::regex(line + "([0-9]+\\.[0-9][0-9])")));
    CHECK(std::stod(m[1]) < hold_ms);
    REQUIRE(std::regex_match(out[2], m, std::regex(line + "([0-9]+\\.[0-9][0-9])")));
    CHECK(std::stod(m[1]) >= hold_ms);
}

} // namespace test_tcppktlat
