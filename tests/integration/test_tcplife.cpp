// tcplife against a session this test runs itself: a child process serves,
// this process connects; each side sends a known number of bytes, and the
// client holds the session open for a known time.
#include "harness.h"
#include "json_lines.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace test_tcplife {

using namespace itest;
using nlohmann::json;

namespace {

constexpr size_t client_sends = 100000;
constexpr size_t server_sends = 150000;
constexpr int hold_ms = 400;

bool send_all(int fd, size_t n) {
    std::vector<char> buf(n, 'x');
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(fd, buf.data() + done, n - done, MSG_NOSIGNAL);
        if (w <= 0) return false;
        done += static_cast<size_t>(w);
    }
    return true;
}

bool recv_exactly(int fd, size_t n) {
    std::vector<char> buf(65536);
    size_t done = 0;
    while (done < n) {
        ssize_t r = recv(fd, buf.data(), std::min(buf.size(), n - done), 0);
        if (r <= 0) return false;
        done += static_cast<size_t>(r);
    }
    return true;
}

struct Session {
    pid_t server_pid = 0;
    uint16_t server_port = 0;
    uint16_t client_port = 0;
    double client_seconds = 0; // from before connect() to after close()
};

// A listening socket on 127.0.0.2 (so that the client, from 127.0.0.1, has
// a different address and a swap shows), opened before the tool starts so that
// its port can be given to -L and -D.
struct Listener {
    int fd;
    uint16_t port;
    Listener() {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
        if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.2");
        port = local_port(fd);
    }
    ~Listener() { close(fd); }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
};

// One session from 127.0.0.1 to 127.0.0.2: the client (this process) sends client_sends
// bytes, the server (a child named cs-tcplife-srv) answers with
// server_sends bytes, the client waits hold_ms and closes.
Session run_session(const Listener& listener) {
    Session s;
    s.server_port = listener.port;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
    addr.sin_port = htons(s.server_port);
    s.server_pid = fork();
    if (s.server_pid == 0) {
        prctl(PR_SET_NAME, "cs-tcplife-srv");
        int fd = accept(listener.fd, nullptr, nullptr);
        bool ok = fd >= 0 && recv_exactly(fd, client_sends) && send_all(fd, server_sends);
        char c;
        while (ok && recv(fd, &c, 1, 0) > 0) {
        }
        close(fd);
        _exit(ok ? 0 : 1);
    }
    auto start = std::chrono::steady_clock::now();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error("cannot connect");
    s.client_port = local_port(fd);
    bool ok = send_all(fd, client_sends) && recv_exactly(fd, server_sends);
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    close(fd);
    s.client_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int status = 0;
    waitpid(s.server_pid, &status, 0);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the session's data did not get through");
    return s;
}

Session run_session() {
    Listener listener;
    return run_session(listener);
}

} // namespace

TEST_CASE("tcplife reports both ends of a session with bytes, lifetime and processes",
          "[tcplife]") {
    REQUIRE_BPF();
    ToolProcess p({tool_path("tcplife"), "-o", "json"});
    REQUIRE(p.wait_attached());
    Session s = run_session();
    std::string client_lport = "\"lport\":" + std::to_string(s.client_port);
    REQUIRE(p.wait_for_output(client_lport));
    REQUIRE(p.wait_for_output("\"rport\":" + std::to_string(s.client_port)));
    Finished r = p.stop();
    CHECK(r.exit_code == 0);
    bool client_seen = false, server_seen = false;
    for (const std::string& line : lines(r.out)) {
        json e = json::parse(line);
        bool client = e.at("lport") == s.client_port && e.at("rport") == s.server_port;
        bool server = e.at("lport") == s.server_port && e.at("rport") == s.client_port;
        if (!client && !server) continue;
        INFO(line);
        CHECK(e.at("ip") == 4);
        std::string client_addr = "127.0.0.1", server_addr = "127.0.0.2";
        CHECK(e.at("laddr") == (client ? client_addr : server_addr));
        CHECK(e.at("raddr") == (client ? server_addr : client_addr));
        double ms = e.at("duration_ms").get<double>();
        uint64_t tx = e.at("tx_bytes"), rx = e.at("rx_bytes");
        if (client) {
            client_seen = true;
            CHECK(e.at("pid") == getpid());
            CHECK(e.at("uid") == getuid());
            CHECK(tx >= client_sends);
            CHECK(tx <= client_sends + 1024);
            CHECK(rx >= server_sends);
            CHECK(rx <= server_sends + 1024);
            // It lived at least as long as the client held it, and not much
            // longer than the client took from connect() to close().
            CHECK(ms >= hold_ms);
            CHECK(ms <= s.client_seconds * 1000 + 100);
        } else {
            server_seen = true;
            CHECK(e.at("pid") == s.server_pid);
            CHECK(e.at("comm") == "cs-tcplife-srv");
            CHECK(tx >= server_sends);
            CHECK(tx <= server_sends + 1024);
            CHECK(rx >= client_sends);
            CHECK(rx <= client_sends + 1024);
            CHECK(ms >= hold_ms);
            CHECK(ms <= s.client_seconds * 1000 + 100);
        }
    }
    CHECK(client_seen);
    CHECK(server_seen);
}

TEST_CASE("tcplife text shows the classic columns in KB and ms", "[tcplife]") {
    REQUIRE_BPF();
    ToolProcess p({tool_path("tcplife"), "-T", "-p", std::to_string(getpid())});
    REQUIRE(p.wait_attached());
    Session s = run_session();
    REQUIRE(p.wait_for_output(" " + std::to_string(s.client_port) + " "));
    Finished r = p.stop();
    CHECK(lines(r.out)[0] == "TIME     PID     COMM             LADDR           LPORT RADDR        "
                             "   RPORT  TX_KB  RX_KB MS");
    std::vector<std::vector<std::string>> hits;
    for (const std::string& line : lines(r.out)) {
        auto f = fields(line);
        if (f.size() == 10 && f[4] == std::to_string(s.client_port)) hits.push_back(f);
    }
    REQUIRE(hits.size() == 1);
    auto& f = hits[0];
    CHECK(f[0].size() == 8);
    CHECK(f[1] == std::to_string(getpid()));
    CHECK(f[3] == "127.0.0.1");
    CHECK(f[5] == "127.0.0.2");
    CHECK(f[6] == std::to_string(s.server_port));
    CHECK(f[7] == std::to_string(client_sends / 1024));
    CHECK(f[8] == std::to_string(server_sends / 1024));
    CHECK(std::stod(f[9]) >= hold_ms);
    // -p: the server child's end of the session is not shown.
    for (const std::string& line : lines(r.out))
        CHECK(line.find("cs-tcplife-srv") == std::string::npos);
}

TEST_CASE("tcplife -L and -D keep only sessions on the chosen local or remote ports", "[tcplife]") {
    REQUIRE_BPF();
    auto only_one_end = [](const char* flag, bool want_server_end) {
        Listener listener;
        ToolProcess p({tool_path("tcplife"), "-o", "json", flag, std::to_string(listener.port)});
        REQUIRE(p.wait_attached());
        Session s = run_session(listener);
        // A second session after the first has ended at both ends: once its
        // wanted end shows, the first session's other end, had it passed the
        // filter, would have shown before it.
        Session sentinel = run_session(listener);
        // The wanted end of a session: its local and remote ports.
        auto wanted = [&](const Session& x) {
            return want_server_end ? std::make_pair(x.server_port, x.client_port)
                                   : std::make_pair(x.client_port, x.server_port);
        };
        auto shown = [](const std::string& out, std::pair<uint16_t, uint16_t> end) {
            int n = 0;
            for (const json& e : json_lines(out.substr(0, out.rfind('\n') + 1)))
                n += e.at("lport") == end.first && e.at("rport") == end.second;
            return n;
        };
        for (double deadline = now_s() + 10; now_s() < deadline; usleep(10000))
            if (shown(p.output_so_far(), wanted(sentinel)) > 0) break;
        Finished r = p.stop();
        CHECK(shown(r.out, wanted(s)) == 1);
        CHECK(shown(r.out, wanted(sentinel)) == 1);
        CHECK(lines(r.out).size() == 2); // the other end of neither session
    };
    SECTION("-L: the server's end only") {
        only_one_end("-L", true);
    }
    SECTION("-D: the client's end only") {
        only_one_end("-D", false);
    }
}

TEST_CASE("tcplife rejects bad port lists with exit 2", "[tcplife]") {
    for (const char* flag : {"-L", "-D"}) {
        Finished r = run({tool_path("tcplife"), flag, "22,abc"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("'abc'") != std::string::npos);
    }
}

} // namespace test_tcplife
