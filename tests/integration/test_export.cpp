// corescope export against the real Prometheus server (Debian's prometheus
// package, scripts/setup.sh): the test starts the exporter and a Prometheus
// scraping it every second, on 127.0.0.1 ports of their own with a storage
// directory of the test's own, provokes a known number of execs and failed
// execs and O_DIRECT writes, and asserts through /api/v1/query that the
// counters rose by at least that much, that histogram_quantile over both
// histograms is sane, that up is 1 and that every collector reports
// success. promtool check metrics passes on both formats, a client that
// sends nothing or a huge header does not stall a scrape, and a thousand
// scrapes in a row leave the exporter's memory flat.
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
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <regex>
#include <set>
#include <string>
#include <sys/socket.h>
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

// What promtool check metrics says of an exposition on its stdin.
Finished promtool_check(const std::string& exposition) {
    std::string file = "/tmp/" + unique_token("corescope-export-metrics");
    std::ofstream(file) << exposition;
    Finished r = run({"/bin/sh", "-c", "promtool check metrics < " + file});
    std::remove(file.c_str());
    return r;
}

// The structure promtool does not check: no series twice, buckets
// cumulative, +Inf equal to _count.
void check_structure(const std::string& text) {
    std::set<std::string> series;
    std::map<std::string, uint64_t> last_bucket, inf_bucket;
    static const std::regex bucket(R"re(^(\w+)_bucket\{(.*?),?le="([^"]+)"\} (\d+)$)re");
    static const std::regex count(R"re(^(\w+)_count(\{.*\})? (\d+)$)re");
    for (const std::string& line : lines(text)) {
        if (line.empty() || line[0] == '#') continue;
        std::string key = line.substr(0, line.rfind(' '));
        INFO(line);
        CHECK(series.insert(key).second);
        std::smatch m;
        if (std::regex_match(line, m, bucket)) {
            std::string id = m[1].str() + "{" + m[2].str() + "}";
            uint64_t v = std::stoull(m[4]);
            CHECK(v >= last_bucket[id]);
            last_bucket[id] = v;
            if (m[3] == "+Inf") inf_bucket[id] = v;
        } else if (std::regex_match(line, m, count)) {
            std::string labels = m[2].matched ? m[2].str() : "{}";
            std::string id = m[1].str() + labels;
            REQUIRE(inf_bucket.count(id));
            CHECK(inf_bucket[id] == std::stoull(m[3]));
        }
    }
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
                          "127.0.0.1:" + std::to_string(exporter_port)});
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
    std::ofstream(dir + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        << "scrape_configs:\n  - job_name: corescope\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << exporter_port << "']\n";
    Server prometheus({command_path("prometheus"), "--config.file=" + dir + "/prometheus.yml",
                       "--storage.tsdb.path=" + dir + "/data",
                       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                      dir + "/prometheus.log");

    // The first sample (5-6 s after Prometheus starts: it applies new
    // targets on a 5 s tick), then the work, then the counters' rise.
    double execs_before = wait_for(
        prometheus_port, "corescope_execs_total", [](double) { return true; }, 20);
    REQUIRE(!std::isnan(execs_before));
    double failed_before = query_one(prometheus_port, "corescope_exec_failures_total");
    REQUIRE(!std::isnan(failed_before));
    std::string io_count = "sum(corescope_block_io_latency_seconds_count{device=\"" + disk +
                           "\",operation=\"write\"})";
    double io_before = query_one(prometheus_port, io_count);
    if (std::isnan(io_before)) io_before = 0;

    exec_many("/bin/true", execs);
    exec_many("/nonexistent/corescope-export-test", failed_execs);
    REQUIRE(file.direct_writes(block, writes));

    double execs_after = wait_for(
        prometheus_port, "corescope_execs_total",
        [&](double v) { return v >= execs_before + execs + failed_execs; }, 10);
    CHECK(execs_after >= execs_before + execs + failed_execs);
    double failed_after = wait_for(
        prometheus_port, "corescope_exec_failures_total",
        [&](double v) { return v >= failed_before + failed_execs; }, 5);
    CHECK(failed_after >= failed_before + failed_execs);
    double io_after = wait_for(
        prometheus_port, io_count, [&](double v) { return v >= io_before + writes; }, 5);
    CHECK(io_after >= io_before + writes);

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
    auto success = query(prometheus_port, "corescope_scrape_collector_success");
    std::set<std::string> collectors;
    for (const auto& [labels, value] : success) {
        INFO(labels.dump());
        CHECK(value == 1);
        collectors.insert(labels.value("collector", ""));
    }
    CHECK(collectors == std::set<std::string>{"biolatency", "execsnoop", "runqlat"});
    CHECK(query_one(prometheus_port, "count(corescope_build_info)") == 1);

    CHECK(prometheus.stop() == 0);
    close(silent);
    Finished stopped = exporter.stop(SIGTERM);
    INFO(stopped.err);
    CHECK(stopped.exit_code == 0);
}

TEST_CASE("export: bad usage exits 2, --dry-run loads every collector", "[export]") {
    Finished bad = run({tool_path("corescope"), "export", "--collectors", "nosuch"});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Matchers::Contains("nosuch"));
    Finished address = run({tool_path("corescope"), "export", "--web.listen-address", "nocolon"});
    CHECK(address.exit_code == 2);
    REQUIRE_BPF();
    Finished dry = run({tool_path("corescope"), "export", "--dry-run"}, 60);
    INFO(dry.err);
    CHECK(dry.exit_code == 0);
}

} // namespace test_export
