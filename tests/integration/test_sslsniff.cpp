// sslsniff against a TLS session of the test's own on loopback: a server
// and a client process (forked from this program, which links libssl, so
// both map the system's libssl.so.3), a throwaway self-signed key made in
// memory. The client writes known payloads with SSL_write (one with escape
// bytes, one longer than the capture limit), the server reads them with
// SSL_read_ex and answers with SSL_write_ex, which the client reads with
// SSL_read: the lines' FUNC, LEN, PID, COMM and bytes are known.
#include "harness.h"
#include "json_lines.h"
#include "tls_pair.h"

#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>
#include <string>
#include <openssl/pem.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <tuple>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace test_sslsniff {

using namespace itest;
using nlohmann::json;

namespace {

const std::string greeting = "GET /corescope HTTP/1.1\r\nHost: \x1b]0;owned\x07\r\n\r\n";
const std::string answer = "HTTP/1.1 200 OK\r\n\r\npong";
const std::string big(300, 'z');
constexpr size_t limit = 64; // -s of the text run

// Reads exactly n bytes with SSL_read_ex (a record may come in parts).
bool read_exactly(SSL* ssl, size_t n, std::string& got) {
    got.clear();
    char buf[4096];
    while (got.size() < n) {
        size_t moved = 0;
        if (SSL_read_ex(ssl, buf, std::min(sizeof buf, n - got.size()), &moved) != 1) return false;
        got.append(buf, moved);
    }
    return true;
}

// The server: accepts on listener, reads the greeting and the big payload,
// answers between them. Exits 0 when every byte was as expected.
int serve(int listener, const TlsCredentials& creds) {
    int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) return 1;
    SSL_CTX* ctx = tls_server_context(creds);
    if (!ctx) return 2;
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) return 3;
    std::string got;
    if (!read_exactly(ssl, greeting.size(), got) || got != greeting) return 4;
    size_t written = 0;
    if (SSL_write_ex(ssl, answer.data(), answer.size(), &written) != 1 || written != answer.size())
        return 5;
    if (!read_exactly(ssl, big.size(), got) || got != big) return 6;
    SSL_shutdown(ssl);
    return 0;
}

// The client: connects to port, writes the greeting, reads the answer,
// writes the big payload.
int connect_and_talk(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) return 2;
    if (SSL_write(ssl, greeting.data(), int(greeting.size())) != int(greeting.size())) return 3;
    std::string got;
    char buf[4096];
    while (got.size() < answer.size()) {
        int n = SSL_read(ssl, buf, int(sizeof buf));
        if (n <= 0) return 4;
        got.append(buf, n);
    }
    if (got != answer) return 5;
    if (SSL_write(ssl, big.data(), int(big.size())) != int(big.size())) return 6;
    // Until the server has read it all and closed.
    while (SSL_read(ssl, buf, int(sizeof buf)) > 0) {
    }
    return 0;
}

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (unsigned char c : bytes) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

std::string squeeze(const std::string& line) {
    std::string joined;
    for (const std::string& x : fields(line))
        joined += (joined.empty() ? "" : " ") + x;
    return joined;
}

} // namespace

TEST_CASE("sslsniff shows TLS plaintext both ways: FUNC, COMM, PID, LEN, the bytes escaped in "
          "text and exact in JSON, --hexdump, the cut at -s; -p and -n both sides",
          "[sslsniff]") {
    REQUIRE_BPF();
    TlsCredentials creds;
    REQUIRE(creds.ok());
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener, 1) == 0);
    uint16_t port = local_port(listener);

    std::string server_comm = unique_comm("tls-srv-");
    std::string client_comm = unique_comm("tls-cli-");
    // The server waits in accept() until the client, gated, connects.
    pid_t server = fork();
    REQUIRE(server >= 0);
    if (server == 0) {
        prctl(PR_SET_NAME, server_comm.c_str());
        _exit(serve(listener, creds));
    }
    close(listener);
    GatedChild client([&] { return connect_and_talk(port); }, client_comm.c_str());
    std::string spid = std::to_string(server), cpid = std::to_string(client.pid());

    ToolProcess text(
        {tool_path("sslsniff"), "-l", "-s", std::to_string(limit), "-p", cpid, "-p", spid});
    ToolProcess exact({tool_path("sslsniff"), "-o", "json", "-p", cpid, "-p", spid});
    ToolProcess hexdump({tool_path("sslsniff"), "--hexdump", "-p", cpid});
    // The library named (this program's, which the children map too).
    std::string libssl;
    std::ifstream maps("/proc/self/maps");
    for (std::string line; libssl.empty() && std::getline(maps, line);)
        if (line.find("/libssl.so") != std::string::npos) libssl = line.substr(line.find('/'));
    REQUIRE(!libssl.empty());
    ToolProcess by_name(
        {tool_path("sslsniff"), "-o", "json", "--libssl", libssl, "-n", server_comm});
    for (ToolProcess* t : {&text, &exact, &hexdump, &by_name})
        REQUIRE(t->wait_attached());
    REQUIRE(client.run() == 0);
    int status = 0;
    REQUIRE(waitpid(server, &status, 0) == server);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(text.wait_for_output("bytes cut]"));
    REQUIRE(exact.wait_for_output(big));
    REQUIRE(hexdump.wait_for_output(hex(big.substr(0, 8))));
    REQUIRE(by_name.wait_for_output(big));
    Finished t = text.stop(), j = exact.stop(), h = hexdump.stop(), n = by_name.stop();
    for (const Finished* f : {&t, &j, &h, &n})
        CHECK(f->exit_code == 0);

    // Text: one line a call, in the order the calls returned; the escape
    // bytes shown, not sent; the big write cut at 64 bytes and the cut said.
    CHECK(lines(t.out).at(0) == "FUNC   COMM             PID        LEN   LAT(ms) DATA");
    CHECK(t.out.find('\x1b') == std::string::npos);
    CHECK(t.out.find('\x07') == std::string::npos);
    std::vector<std::string> rows;
    for (const std::string& line : lines(t.out)) {
        if (line.rfind("READ ", 0) != 0 && line.rfind("WRITE ", 0) != 0) continue;
        std::vector<std::string> f = fields(line);
        REQUIRE(f.size() >= 6);
        CHECK(std::stod(f[4]) > 0); // LAT(ms)
        // Without the latency, which varies.
        std::string rest = squeeze(line);
        std::string before = f[0] + " " + f[1] + " " + f[2] + " " + f[3] + " ";
        rows.push_back(before + rest.substr(before.size() + f[4].size() + 1));
    }
    std::string escaped_greeting =
        "GET /corescope HTTP/1.1\\r\\nHost: \\e]0;owned\\x07\\r\\n\\r\\n";
    std::string escaped_answer = "HTTP/1.1 200 OK\\r\\n\\r\\npong";
    std::string cut = std::string(limit, 'z') + "...[236 bytes cut]";
    std::string glen = std::to_string(greeting.size()), alen = std::to_string(answer.size());
    // The two processes' calls, each in its own order (the two sides'
    // returns may interleave either way).
    auto of = [](const std::vector<std::string>& all, const std::string& comm) {
        std::vector<std::string> mine;
        for (const std::string& row : all)
            if (row.find(" " + comm + " ") != std::string::npos) mine.push_back(row);
        return mine;
    };
    CHECK(rows.size() == 6);
    CHECK(of(rows, client_comm) ==
          std::vector<std::string>{
              "WRITE " + client_comm + " " + cpid + " " + glen + " " + escaped_greeting,
              "READ " + client_comm + " " + cpid + " " + alen + " " + escaped_answer,
              "WRITE " + client_comm + " " + cpid + " 300 " + cut});
    CHECK(of(rows, server_comm) ==
          std::vector<std::string>{
              "READ " + server_comm + " " + spid + " " + glen + " " + escaped_greeting,
              "WRITE " + server_comm + " " + spid + " " + alen + " " + escaped_answer,
              "READ " + server_comm + " " + spid + " 300 " + cut});

    // JSON: the bytes exact and whole (the default limit is 8192), the
    // function each went through, the process.
    struct Want {
        std::string func, function;
        std::string data;
    };
    std::vector<Want> client_wants = {{"WRITE", "SSL_write", greeting},
                                      {"READ", "SSL_read", answer},
                                      {"WRITE", "SSL_write", big}};
    std::vector<Want> server_wants = {{"READ", "SSL_read_ex", greeting},
                                      {"WRITE", "SSL_write_ex", answer},
                                      {"READ", "SSL_read_ex", big}};
    std::vector<json> client_events, server_events;
    for (const json& e : json_lines(j.out)) {
        INFO(e.dump());
        if (e.at("pid") == client.pid())
            client_events.push_back(e);
        else if (e.at("pid") == server)
            server_events.push_back(e);
        else
            FAIL("a process not asked for");
    }
    for (auto [events, wants, comm, pid] :
         {std::tuple{&client_events, &client_wants, client_comm, client.pid()},
          std::tuple{&server_events, &server_wants, server_comm, server}}) {
        REQUIRE(events->size() == wants->size());
        for (size_t i = 0; i < wants->size(); i++) {
            const json& e = (*events)[i];
            const Want& w = (*wants)[i];
            INFO(e.dump());
            CHECK(e.at("func") == w.func);
            CHECK(e.at("function") == w.function);
            CHECK(e.at("comm") == comm);
            CHECK(e.at("tid") == pid);
            CHECK(e.at("len") == w.data.size());
            CHECK(e.at("captured") == w.data.size());
            CHECK(e.at("truncated") == false);
            CHECK(e.at("data") == w.data);
            CHECK(e.at("latency_ms").get<double>() > 0);
        }
    }

    // --hexdump, -p the client: its three calls in hex, none of the server's.
    std::vector<std::string> hex_rows;
    for (const std::string& line : lines(h.out))
        if (line.rfind("READ ", 0) == 0 || line.rfind("WRITE ", 0) == 0)
            hex_rows.push_back(squeeze(line));
    CHECK(hex_rows ==
          std::vector<std::string>{"WRITE " + client_comm + " " + cpid + " " +
                                       std::to_string(greeting.size()) + " " + hex(greeting),
                                   "READ " + client_comm + " " + cpid + " " +
                                       std::to_string(answer.size()) + " " + hex(answer),
                                   "WRITE " + client_comm + " " + cpid + " 300 " + hex(big)});
    CHECK(h.out.find(server_comm) == std::string::npos);

    // -n the server's name, --libssl: its calls only.
    std::vector<std::string> named;
    for (const json& e : json_lines(n.out)) {
        CHECK(e.at("comm") == server_comm);
        named.push_back(e.at("func").get<std::string>() + " " + e.at("data").get<std::string>());
    }
    CHECK(named == std::vector<std::string>{"READ " + greeting, "WRITE " + answer, "READ " + big});
}

TEST_CASE("sslsniff refuses a missing --libssl with exit 2 and a file without SSL_read with exit 1",
          "[sslsniff]") {
    Finished r = run({tool_path("sslsniff"), "--libssl", "/nonexistent/libssl.so.3"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/nonexistent/libssl.so.3") != std::string::npos);
    REQUIRE_BPF();
    Finished n = run({tool_path("sslsniff"), "--libssl", "/bin/true"});
    CHECK(n.exit_code == 1);
    CHECK(n.err.find("/bin/true defines no SSL_read") != std::string::npos);
}

TEST_CASE("sslsniff -p probes a process's own libssl through /proc/PID/root (a container's copy); "
          "the system's libssl does not see it",
          "[sslsniff]") {
    REQUIRE_BPF();
    REQUIRE(have_command("openssl"));
    // The server: openssl s_server in a mount namespace of its own, where
    // a copy of libssl (another file) is bound over the system's path.
    std::string libssl;
    std::ifstream maps("/proc/self/maps");
    for (std::string line; libssl.empty() && std::getline(maps, line);)
        if (line.find("/libssl.so") != std::string::npos) libssl = line.substr(line.find('/'));
    REQUIRE(!libssl.empty());
    std::string dir = "/tmp/" + unique_token("sslsniff-ns");
    REQUIRE(mkdir(dir.c_str(), 0700) == 0);
    std::string copy = dir + "/libssl.so.3", key = dir + "/key.pem", cert = dir + "/cert.pem";
    REQUIRE(sh("cp " + libssl + " " + copy));
    {
        TlsCredentials creds;
        REQUIRE(creds.ok());
        FILE* k = fopen(key.c_str(), "w");
        FILE* c = fopen(cert.c_str(), "w");
        REQUIRE((k && c));
        CHECK(PEM_write_PrivateKey(k, creds.key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
        CHECK(PEM_write_X509(c, creds.cert) == 1);
        fclose(k);
        fclose(c);
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    uint16_t port = local_port(listener);
    close(listener); // s_server takes the port
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    pid_t server = fork();
    REQUIRE(server >= 0);
    if (server == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        if (unshare(CLONE_NEWNS) != 0 ||
            mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) ||
            mount(copy.c_str(), libssl.c_str(), nullptr, MS_BIND, nullptr) != 0)
            _exit(126);
        std::string accept = "127.0.0.1:" + std::to_string(port);
        execlp("openssl", "openssl", "s_server", "-accept", accept.c_str(), "-cert", cert.c_str(),
               "-key", key.c_str(), "-naccept", "1", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    // s_server says ACCEPT once it listens.
    std::string said;
    for (char buf[256]; said.find("ACCEPT") == std::string::npos;) {
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n <= 0) break;
        said.append(buf, n);
    }
    REQUIRE(said.find("ACCEPT") != std::string::npos);
    std::string spid = std::to_string(server);
    ToolProcess own({tool_path("sslsniff"), "-o", "json", "-v", "-p", spid});
    ToolProcess system({tool_path("sslsniff"), "-o", "json", "-n", "openssl"});
    REQUIRE(own.wait_attached());
    REQUIRE(system.wait_attached());
    std::string payload = unique_token("in-its-own-libssl");
    GatedChild client(
        [&] {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in to = addr;
            to.sin_port = htons(port);
            if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return 1;
            SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
            SSL* ssl = SSL_new(ctx);
            SSL_set_fd(ssl, fd);
            if (SSL_connect(ssl) != 1) return 2;
            if (SSL_write(ssl, payload.data(), int(payload.size())) != int(payload.size()))
                return 3;
            SSL_shutdown(ssl);
            return 0;
        },
        unique_comm("tls-ns-").c_str());
    REQUIRE(client.run() == 0);
    bool seen = own.wait_for_output(payload);
    Finished o = own.stop(), s = system.stop();
    close(in[1]); // s_server ends at the end of its input
    kill(server, SIGTERM);
    waitpid(server, nullptr, 0);
    close(out[0]);
    sh("rm -rf " + dir);
    REQUIRE(seen);
    CHECK(o.err.find("uprobe:/proc/" + spid + "/root" + libssl + ":0x") != std::string::npos);
    std::vector<json> reads;
    for (const json& e : json_lines(o.out))
        if (e.at("func") == "READ") reads.push_back(e);
    REQUIRE(reads.size() == 1);
    CHECK(reads[0].at("pid") == server);
    CHECK(reads[0].at("comm") == "openssl");
    CHECK(reads[0].at("data") == payload);
    CHECK(reads[0].at("function") == "SSL_read");
    // The system's libssl is another file: the server's read is not there.
    CHECK(s.out.find(payload) == std::string::npos);
}

} // namespace test_sslsniff
