// corescope export against the real Prometheus server (Debian's prometheus
// package, scripts/setup.sh): the test starts the exporter (every collector,
// the opt-in ones too, with --bpf-stats) and a Prometheus scraping it every
// second, on 127.0.0.1 ports of their own with a storage directory of the
// test's own, provokes a known number of execs and failed execs, O_DIRECT
// writes, an OOM kill in a memory cgroup, retransmissions in a network
// namespace, connections refused (dropped SYNs), failed opens and a rare
// system call, and asserts through /api/v1/query that the counters rose by
// at least that much (and the exec programs' run counts, the health), that histogram_quantile over
// both histograms is sane, that up is 1 and that every collector reports success. promtool check
// metrics passes on both formats, a client that sends nothing or a huge header does not stall a
// scrape, and a thousand scrapes in a row leave the exporter's memory flat.
#include "exposition_check.h"
#include "harness.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sched.h>
#include <regex>
#include <set>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace test_export {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int execs = 25;
constexpr int failed_execs = 7;
constexpr int writes = 100;
constexpr size_t block = 4096;
constexpr int refused = 20;      // connections to a closed port: SYNs dropped, NO_SOCKET
constexpr int failed_opens = 30; // opens of a missing file: ENOENT
constexpr int rare_calls = 40;   // sched_get_priority_min(), which little else calls

// A port nothing listens on now (the kernel's pick for port 0).
uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    uint16_t port = local_port(fd);
    close(fd);
    return port;
}

int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct HttpReply {
    int status = 0;
    std::string headers; // lower-cased
    std::string body;
};

// One request, the whole reply (the exporter closes after each), within
// timeout_s; status 0 when none came.
HttpReply http_get(uint16_t port, const std::string& target, const std::string& extra = {},
                   double timeout_s = 5) {
    HttpReply reply;
    int fd = connect_to(port);
    if (fd < 0) return reply;
    std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra + "\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
        close(fd);
        return reply;
    }
    std::string raw;
    double deadline = now_s() + timeout_s;
    while (now_s() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[65536];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        raw.append(buf, size_t(n));
    }
    close(fd);
    size_t end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return reply;
    reply.status = std::atoi(raw.c_str() + 9);
    reply.headers = raw.substr(0, end);
    for (char& c : reply.headers)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    reply.body = raw.substr(end + 4);
    return reply;
}

std::string url_encoded(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += char(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

// The instant query's vector: each result's labels and value.
std::vector<std::pair<json, double>> query(uint16_t prometheus, const std::string& promql) {
    std::vector<std::pair<json, double>> out;
    HttpReply r = http_get(prometheus, "/api/v1/query?query=" + url_encoded(promql));
    if (r.status != 200) return out;
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return out;
    for (const json& result : j["data"]["result"])
        out.push_back({result["metric"], std::stod(result["value"][1].get<std::string>())});
    return out;
}

// The value of a query with one result, or NaN.
double query_one(uint16_t prometheus, const std::string& promql) {
    auto results = query(prometheus, promql);
    return results.size() == 1 ? results[0].second : std::nan("");
}

// Polls until the query has one result that satisfies ok, or the deadline.
double wait_for(uint16_t prometheus, const std::string& promql,
                const std::function<bool(double)>& ok, double timeout_s) {
    double deadline = now_s() + timeout_s;
    double v = std::nan("");
    while (now_s() < deadline) {
        v = query_one(prometheus, promql);
        if (!std::isnan(v) && ok(v)) return v;
        usleep(200 * 1000);
    }
    return v;
}

// count fork+execs of path, each waited for.
void exec_many(const char* path, int count) {
    for (int i = 0; i < count; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char* argv[] = {const_cast<char*>(path), nullptr};
            execv(path, argv);
            _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
    }
}

// A command's path on $PATH (the harness execs paths, not names).
std::string command_path(const std::string& name) {
    Finished r = run({"/bin/sh", "-c", "command -v " + name});
    std::string path = r.out.substr(0, r.out.find('\n'));
    return r.exit_code == 0 ? path : std::string();
}

// A server the test starts (Prometheus), its output in log; stop() ends it
// by its PID: SIGTERM, then SIGKILL after timeout_s.
class Server {
  public:
    Server(const std::vector<std::string>& argv, const std::string& log) {
        pid_ = fork();
        if (pid_ == 0) {
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            std::vector<char*> args;
            for (const std::string& a : argv)
                args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
    }
    ~Server() { stop(1); }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    // The exit status (128 + signal when killed by one), -1 if none.
    int stop(double timeout_s = 10) {
        if (pid_ <= 0) return -1;
        kill(pid_, SIGTERM);
        double deadline = now_s() + timeout_s;
        int status = 0;
        while (waitpid(pid_, &status, WNOHANG) == 0) {
            if (now_s() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
                break;
            }
            usleep(20 * 1000);
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

  private:
    pid_t pid_ = -1;
};

// VmRSS of a process in kB, 0 if unknown.
uint64_t resident_kb(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
    return 0;
}

// count connections to a port of 127.0.0.1 nothing listens on: each SYN is
// dropped (reason NO_SOCKET) and answered with a reset.
void connect_refused(int count) {
    uint16_t port = free_port();
    for (int i = 0; i < count; i++) {
        int fd = connect_to(port); // closes the socket when refused
        if (fd >= 0) close(fd);
    }
}

// A child in a memory cgroup of 32 MiB touching 200 MiB, killed by the OOM
// killer; true when it was (SIGKILL).
bool oom_kill_in(const MemoryLimitedCgroup& cgroup) {
    pid_t child = fork();
    if (child == 0) {
        if (!cgroup.enter()) _exit(1);
        const size_t size = 200u << 20;
        volatile char* memory = static_cast<char*>(malloc(size));
        if (memory == nullptr) _exit(2);
        for (size_t i = 0; i < size; i += 4096)
            memory[i] = 1;
        _exit(3); // not reached
    }
    int status = 0;
    return waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
           WTERMSIG(status) == SIGKILL;
}

} // namespace

TEST_CASE("export: Prometheus scrapes corescope export and sees what the test provoked",
          "[export]") {
    REQUIRE_BPF();
    if (!have_command("prometheus") || !have_command("promtool"))
        SKIP_CASE("needs prometheus and promtool (scripts/setup.sh installs prometheus)");
    ScratchFile file(block * 64);
    REQUIRE(file.ok());
    std::string disk = disk_of(file.path());
    REQUIRE(!disk.empty());

    uint16_t exporter_port = free_port();
    ToolProcess exporter({tool_path("corescope"), "export", "--web.listen-address",
                          "127.0.0.1:" + std::to_string(exporter_port), "--collectors",
                          "default,opensnoop,syscount", "--bpf-stats"});
    REQUIRE(exporter.wait_for_error_output("serving http://", 30));

    // Hostile clients, before Prometheus: one that sends nothing, one that
    // sends a huge header. Neither stalls a scrape.
    int silent = connect_to(exporter_port);
    REQUIRE(silent >= 0);
    int huge = connect_to(exporter_port);
    REQUIRE(huge >= 0);
    std::string big = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a');
    ssize_t sent = send(huge, big.data(), big.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    CHECK(sent > 0);
    double before = now_s();
    HttpReply text = http_get(exporter_port, "/metrics");
    CHECK(now_s() - before < 2);
    REQUIRE(text.status == 200);
    CHECK_THAT(text.headers,
               Catch::Matchers::Contains("content-type: text/plain; version=0.0.4; charset=utf-8"));
    char answer[256] = {};
    pollfd p{huge, POLLIN, 0};
    REQUIRE(poll(&p, 1, 5000) == 1);
    recv(huge, answer, sizeof answer - 1, 0);
    CHECK(std::string(answer).rfind("HTTP/1.1 431 ", 0) == 0);
    close(huge);

    HttpReply om = http_get(exporter_port, "/metrics",
                            "Accept: application/openmetrics-text;version=1.0.0,"
                            "text/plain;version=0.0.4;q=0.5\r\n");
    REQUIRE(om.status == 200);
    CHECK_THAT(om.headers, Catch::Matchers::Contains("content-type: application/openmetrics-text; "
                                                     "version=1.0.0; charset=utf-8"));
    CHECK_THAT(om.body, Catch::Matchers::EndsWith("# EOF\n"));
    CHECK_THAT(om.body, !Catch::Matchers::Contains("_created"));
    Finished check = promtool_check(text.body);
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    // 2.42's promtool reads the text format only: OpenMetrics parses (no
    // error, exit 1), and its one lint finding (exit 3) is each counter's
    // sample, whose name (with _total) is not its family's (without), as
    // OpenMetrics has it.
    Finished om_check = promtool_check(om.body);
    INFO(om_check.out << om_check.err);
    CHECK((om_check.exit_code == 0 || om_check.exit_code == 3));
    for (const std::string& line : lines(om_check.out + om_check.err)) {
        std::smatch m;
        CHECK(std::regex_match(line, m, std::regex(R"re((\w+)_total no help text)re")));
        CHECK_THAT(om.body, Catch::Matchers::Contains("# HELP " + m[1].str() + " "));
    }
    check_structure(text.body);
    CHECK(http_get(exporter_port, "/nothing").status == 404);
    HttpReply zipped = http_get(exporter_port, "/metrics", "Accept-Encoding: gzip\r\n");
    CHECK_THAT(zipped.headers, Catch::Matchers::Contains("content-encoding: gzip"));
    CHECK(zipped.body.rfind("\x1f\x8b", 0) == 0);

    // A thousand scrapes in a row: each answered, the memory flat (within
    // 1 MiB of what it was after ten).
    for (int i = 0; i < 10; i++)
        http_get(exporter_port, "/metrics");
    uint64_t rss_before = resident_kb(exporter.pid());
    int answered = 0;
    for (int i = 0; i < 1000; i++)
        answered += http_get(exporter_port, "/metrics").status == 200;
    uint64_t rss_after = resident_kb(exporter.pid());
    CHECK(answered == 1000);
    INFO("VmRSS " << rss_before << " kB, then " << rss_after << " kB");
    CHECK(rss_before > 0);
    CHECK(rss_after <= rss_before + 1024);

    // Prometheus, scraping every second.
    uint16_t prometheus_port = free_port();
    std::string dir = "/tmp/" + unique_token("corescope-export-prometheus");
    REQUIRE(sh("mkdir -p " + dir + "/data"));
    // Removed however the case ends (declared before the server: after it).
    struct RemovedAtEnd {
        std::string path;
        ~RemovedAtEnd() { sh("rm -rf " + path); }
    } removed{dir};

    // A second exporter (execsnoop's collector only) with TLS and basic
    // authentication: a self-signed certificate for 127.0.0.1 and the bcrypt
    // hash of "secret" (cost 5: python3's crypt.crypt('secret', '$2b$05$...')).
    REQUIRE(sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
               "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
               dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null"));
    std::ofstream(dir + "/web.yml")
        << "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
        << "basic_auth_users:\n"
        << "  prometheus: $2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a\n";
    // The file is one Prometheus' own tools accept.
    Finished web_check = run({command_path("promtool"), "check", "web-config", dir + "/web.yml"});
    INFO(web_check.out << web_check.err);
    CHECK(web_check.exit_code == 0);
    uint16_t tls_port = free_port();
    ToolProcess tls_exporter({tool_path("corescope"), "export", "--web.listen-address",
                              "127.0.0.1:" + std::to_string(tls_port), "--collectors", "execsnoop",
                              "--web.config.file", dir + "/web.yml"});
    REQUIRE(tls_exporter.wait_for_error_output("serving https://", 30));
    // A raw request through openssl s_client: a wrong password gets 401, the
    // right one 200.
    auto tls_status = [&](const std::string& credentials) {
        std::string b64 = run({"/bin/sh", "-c", "printf %s '" + credentials + "' | base64"}).out;
        b64 = b64.substr(0, b64.find('\n'));
        Finished r = run({"/bin/sh", "-c",
                          "printf 'GET /metrics HTTP/1.0\\r\\nAuthorization: Basic " + b64 +
                              "\\r\\n\\r\\n' | openssl s_client -quiet -connect 127.0.0.1:" +
                              std::to_string(tls_port) + " -CAfile " + dir +
                              "/cert.pem 2>/dev/null | head -1"});
        return r.out;
    };
    CHECK_THAT(tls_status("prometheus:wrong"), Catch::Matchers::StartsWith("HTTP/1.1 401 "));
    CHECK_THAT(tls_status("prometheus:secret"), Catch::Matchers::StartsWith("HTTP/1.1 200 "));
    CHECK(http_get(tls_port, "/metrics").status == 0); // plain HTTP: no answer

    std::ofstream(dir + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        << "scrape_configs:\n  - job_name: corescope\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << exporter_port << "']\n"
        << "  - job_name: corescope-tls\n    scheme: https\n"
        << "    tls_config:\n      ca_file: " << dir << "/cert.pem\n"
        << "    basic_auth:\n      username: prometheus\n      password: secret\n"
        << "    static_configs:\n      - targets: ['127.0.0.1:" << tls_port << "']\n";
    Server prometheus({command_path("prometheus"), "--config.file=" + dir + "/prometheus.yml",
                       "--storage.tsdb.path=" + dir + "/data",
                       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                      dir + "/prometheus.log");

    // The first sample (5-6 s after Prometheus starts: it applies new
    // targets on a 5 s tick), then the work, then the counters' rise.
    double execs_before = wait_for(
        prometheus_port, "corescope_execs_total{job=\"corescope\"}", [](double) { return true; },
        20);
    REQUIRE(!std::isnan(execs_before));
    double failed_before =
        query_one(prometheus_port, "corescope_exec_failures_total{job=\"corescope\"}");
    REQUIRE(!std::isnan(failed_before));
    std::string io_count = "sum(corescope_block_io_latency_seconds_count{device=\"" + disk +
                           "\",operation=\"write\"})";
    // Counters whose series may not exist yet (a label set appears with its
    // first event): 0 then.
    auto now_or_zero = [&](const std::string& promql) {
        double v = query_one(prometheus_port, promql);
        return std::isnan(v) ? 0.0 : v;
    };
    const std::string oom_kills = "corescope_oom_kills_total{constraint=\"memcg\"}";
    const std::string retransmits = "corescope_tcp_retransmits_total";
    const std::string no_socket = "sum(corescope_tcp_drops_total{reason=\"NO_SOCKET\"})";
    const std::string opens = "corescope_opens_total";
    const std::string enoent = "sum(corescope_open_failures_total{errno=\"ENOENT\"})";
    const std::string rare = "sum(corescope_syscalls_total{syscall=\"sched_get_priority_min\"})";
    const std::string exec_runs =
        "sum(corescope_bpf_program_runs_total{job=\"corescope\",collector=\"execsnoop\"})";
    double io_before = now_or_zero(io_count);
    double oom_before = now_or_zero(oom_kills);
    double retransmits_before = now_or_zero(retransmits);
    double no_socket_before = now_or_zero(no_socket);
    double opens_before = now_or_zero(opens);
    double enoent_before = now_or_zero(enoent);
    double rare_before = now_or_zero(rare);
    double exec_runs_before = now_or_zero(exec_runs);

    exec_many("/bin/true", execs);
    exec_many("/nonexistent/corescope-export-test", failed_execs);
    REQUIRE(file.direct_writes(block, writes));
    connect_refused(refused);
    std::string missing = "/nonexistent/" + unique_token("corescope-export-open");
    for (int i = 0; i < failed_opens; i++)
        CHECK(open(missing.c_str(), O_RDONLY | O_CLOEXEC) < 0);
    for (int i = 0; i < rare_calls; i++)
        syscall(SYS_sched_get_priority_min, SCHED_FIFO);
    MemoryLimitedCgroup cgroup(unique_token("corescope-export-oom"), 32u << 20);
    bool oom_killed = cgroup.ok() && oom_kill_in(cgroup);
    if (!oom_killed)
        WARN("no OOM kill provoked: " << (cgroup.ok() ? "the child lived" : cgroup.why()));
    uint64_t retransmissions = 0;
    if (have_command("nft") && have_command("ip")) {
        NetNamespace ns("cs-export");
        if (ns.ok()) retransmissions = provoke_retransmissions(ns, 700).retransmissions;
    }
    if (retransmissions == 0) WARN("no retransmissions provoked (needs nft and ip)");

    double execs_after = wait_for(
        prometheus_port, "corescope_execs_total{job=\"corescope\"}",
        [&](double v) { return v >= execs_before + execs + failed_execs; }, 10);
    CHECK(execs_after >= execs_before + execs + failed_execs);
    double failed_after = wait_for(
        prometheus_port, "corescope_exec_failures_total{job=\"corescope\"}",
        [&](double v) { return v >= failed_before + failed_execs; }, 5);
    CHECK(failed_after >= failed_before + failed_execs);
    double io_after = wait_for(
        prometheus_port, io_count, [&](double v) { return v >= io_before + writes; }, 5);
    CHECK(io_after >= io_before + writes);
    auto rose_by = [&](const std::string& promql, double before, double by) {
        double after = wait_for(
            prometheus_port, promql, [&](double v) { return v >= before + by; }, 5);
        INFO(promql << ": " << before << " before, " << after << " after, " << by << " provoked");
        CHECK(after >= before + by);
    };
    rose_by(no_socket, no_socket_before, refused);
    rose_by(opens, opens_before, failed_opens);
    rose_by(enoent, enoent_before, failed_opens);
    rose_by(rare, rare_before, rare_calls);
    rose_by(exec_runs, exec_runs_before, execs + failed_execs);
    if (oom_killed) rose_by(oom_kills, oom_before, 1);
    if (retransmissions > 0) rose_by(retransmits, retransmits_before, double(retransmissions));
    CHECK(query_one(prometheus_port,
                    "sum(corescope_bpf_program_run_time_seconds_total{collector=\"syscount\"})") >
          0);

    // Medians: a run-queue wait between 0 and 1 s; a 4 KiB write between 0
    // and 10 s (a busy shared disk is slow, never that slow).
    double runq = query_one(
        prometheus_port,
        "histogram_quantile(0.5, sum by (le) (corescope_runqueue_latency_seconds_bucket))");
    CHECK(runq > 0);
    CHECK(runq < 1);
    double io = query_one(prometheus_port, "histogram_quantile(0.5, sum by (le) "
                                           "(corescope_block_io_latency_seconds_bucket{device=\"" +
                                               disk + "\"}))");
    CHECK(io > 0);
    CHECK(io < 10);
    CHECK(query_one(prometheus_port, "up{job=\"corescope\"}") == 1);
    CHECK(wait_for(
              prometheus_port, "up{job=\"corescope-tls\"}", [](double v) { return v == 1; }, 5) ==
          1);
    CHECK(wait_for(
              prometheus_port, "corescope_execs_total{job=\"corescope-tls\"}",
              [](double v) { return v >= execs; }, 5) >= execs);
    auto success = query(prometheus_port, "corescope_scrape_collector_success{job=\"corescope\"}");
    std::set<std::string> collectors;
    for (const auto& [labels, value] : success) {
        INFO(labels.dump());
        CHECK(value == 1);
        collectors.insert(labels.value("collector", ""));
    }
    CHECK(collectors == std::set<std::string>{"biolatency", "execsnoop", "oomkill", "opensnoop",
                                              "runqlat", "syscount", "tcpdrop", "tcpretrans"});
    CHECK(query_one(prometheus_port, "count(corescope_build_info)") == 2);

    CHECK(prometheus.stop() == 0);
    close(silent);
    CHECK(tls_exporter.stop(SIGTERM).exit_code == 0);
    Finished stopped = exporter.stop(SIGTERM);
    INFO(stopped.err);
    CHECK(stopped.exit_code == 0);
}

TEST_CASE("export: bad usage exits 2, --dry-run loads every collector", "[export]") {
    Finished bad = run({tool_path("corescope"), "export", "--collectors", "nosuch"});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Matchers::Contains("nosuch"));
    Finished help = run({tool_path("corescope"), "export", "--help"});
    CHECK_THAT(help.out, Catch::Matchers::Contains("opt-in: opensnoop,syscount"));
    Finished address = run({tool_path("corescope"), "export", "--web.listen-address", "nocolon"});
    CHECK(address.exit_code == 2);
    REQUIRE_BPF();
    Finished dry = run({tool_path("corescope"), "export", "--collectors",
                        "default,opensnoop,syscount", "--dry-run"},
                       60);
    INFO(dry.err);
    CHECK(dry.exit_code == 0);
}

TEST_CASE("export: -o prometheus on the tools prints an exposition promtool accepts", "[export]") {
    Finished refused = run({tool_path("runqlat"), "-o", "prometheus", "-P"});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Catch::Matchers::Contains("-P"));
    CHECK(run({tool_path("execsnoop"), "-o", "prometheus", "-x"}).exit_code == 2);
    REQUIRE_BPF();
    if (!have_command("promtool"))
        SKIP_CASE("needs promtool (scripts/setup.sh installs prometheus)");
    // Three tools at once (a histogram, counters, counters by label; the
    // exporter's case above checks every collector's exposition), each
    // attached, while this process execs and opens; each prints its
    // exposition when interrupted.
    struct Case {
        std::string tool;
        std::string line; // a line of the exposition, or its start
    };
    const std::vector<Case> cases = {
        {"runqlat", "corescope_runqueue_latency_seconds_bucket{le=\"+Inf\"} "},
        {"execsnoop", "corescope_exec_failures_total "},
        {"opensnoop", "corescope_open_failures_total{errno=\"ENOENT\"} "},
    };
    std::vector<std::unique_ptr<ToolProcess>> tools;
    for (const Case& c : cases)
        tools.push_back(std::make_unique<ToolProcess>(
            std::vector<std::string>{tool_path(c.tool), "-o", "prometheus"}));
    for (auto& t : tools)
        REQUIRE(t->wait_attached());
    exec_many("/nonexistent/corescope-export-test", 3);
    std::string missing = "/nonexistent/" + unique_token("corescope-export-open");
    for (int i = 0; i < 3; i++)
        CHECK(open(missing.c_str(), O_RDONLY | O_CLOEXEC) < 0);
    for (size_t i = 0; i < cases.size(); i++) {
        Finished f = tools[i]->stop();
        INFO(cases[i].tool << ": " << f.out << f.err);
        CHECK(f.exit_code == 0);
        CHECK_THAT(f.out, Catch::Matchers::Contains(cases[i].line));
        Finished check = promtool_check(f.out);
        INFO(check.out << check.err);
        CHECK(check.exit_code == 0);
        check_structure(f.out);
    }
}

} // namespace test_export
