// softirqs against loopback TCP traffic the test makes (every segment sent
// over loopback is received in a NET_RX softirq), checked against
// /proc/softirqs read around the same window.
#include "harness.h"
#include "json_lines.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test_softirqs {

using namespace itest;
using nlohmann::json;

namespace {

// /proc/softirqs: vector name (lower case, as the tool prints it) -> runs on every CPU.
std::map<std::string, uint64_t> proc_softirqs() {
    std::ifstream in("/proc/softirqs");
    std::string header;
    std::getline(in, header);
    std::map<std::string, uint64_t> counts;
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string name;
        fields >> name;
        if (name.empty() || name.back() != ':') continue;
        name.pop_back();
        for (char& ch : name)
            ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
        uint64_t sum = 0;
        for (uint64_t n; fields >> n;)
            sum += n;
        counts[name] = sum;
    }
    return counts;
}

constexpr int round_trips = 200;

// A child named comm that sends round_trips requests over loopback TCP to
// itself and answers each (one thread, blocking sockets: each segment is
// received, in a NET_RX softirq, before the next is sent). Returns its PID
// once it has exited 0.
pid_t loopback_ping_pong(const std::string& comm) {
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NAME, comm.c_str());
        int server = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(server, 1) != 0 ||
            getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            _exit(1);
        int client = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(1);
        int peer = accept(server, nullptr, nullptr);
        int one = 1;
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char byte = 'x';
        for (int i = 0; i < round_trips; i++)
            if (send(client, &byte, 1, 0) != 1 || recv(peer, &byte, 1, MSG_WAITALL) != 1 ||
                send(peer, &byte, 1, 0) != 1 || recv(client, &byte, 1, MSG_WAITALL) != 1)
                _exit(1);
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return pid;
}

uint64_t grew(const std::map<std::string, uint64_t>& before,
              const std::map<std::string, uint64_t>& after, const std::string& name) {
    auto a = after.find(name), b = before.find(name);
    if (a == after.end()) return 0;
    return a->second - (b == before.end() ? 0 : b->second);
}

} // namespace

TEST_CASE("softirqs counts and times the NET_RX runs of loopback traffic as /proc/softirqs does",
          "[softirqs]") {
    REQUIRE_BPF();
    auto p0 = proc_softirqs();
    ToolProcess times({tool_path("softirqs"), "-o", "json"});
    ToolProcess counts({tool_path("softirqs"), "-C"});
    ToolProcess hists({tool_path("softirqs"), "-D", "-o", "json"});
    REQUIRE(times.wait_attached());
    REQUIRE(counts.wait_attached());
    REQUIRE(hists.wait_attached());
    auto p1 = proc_softirqs();
    double started = now_s();
    loopback_ping_pong(unique_comm("sirq-"));
    double workload_s = now_s() - started;
    auto p2 = proc_softirqs();
    Finished t = times.stop();
    Finished c = counts.stop();
    Finished h = hists.stop();
    auto p3 = proc_softirqs();
    CHECK(t.exit_code == 0);
    CHECK(c.exit_code == 0);
    CHECK(h.exit_code == 0);

    // Each of the 2 * round_trips segments is received in a NET_RX run of
    // its own: the sender's queue is empty again before the next is sent.
    REQUIRE(grew(p1, p2, "net_rx") >= 2 * static_cast<uint64_t>(round_trips));

    // Every run the kernel counted in /proc/softirqs while the tool was
    // attached (p1..p2) is in its counts, and it counts nothing the kernel
    // did not count while it ran (p0..p3): exact bounds, which a lost or
    // doubled run fails.
    auto records = json_lines(t.out);
    REQUIRE(records.size() == 1);
    const json& summary = records[0];
    std::map<std::string, uint64_t> by_name;
    uint64_t count = 0, total_ns = 0;
    for (const json& e : summary.at("entries")) {
        INFO(e.dump());
        std::string name = e.at("name");
        uint64_t n = e.at("count").get<uint64_t>();
        CHECK(n > 0);
        CHECK(e.at("total_ns").get<uint64_t>() > 0);
        CHECK(e.at("vec").get<int>() >= 0);
        by_name[name] = n;
        count += n;
        total_ns += e.at("total_ns").get<uint64_t>();
    }
    CHECK(summary.at("count").get<uint64_t>() == count);
    CHECK(summary.at("total_ns").get<uint64_t>() == total_ns);
    // Softirq time is CPU time: at most the window on every CPU.
    CHECK(total_ns <= static_cast<uint64_t>(summary.at("interval_s").get<double>() * 1e9 *
                                            static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN))));
    // The summary covers the tool's whole run, the workload inside it.
    CHECK(summary.at("interval_s").get<double>() >= workload_s);
    for (const auto& [name, n] : p2) {
        INFO("vector " << name);
        CHECK(by_name[name] >= grew(p1, p2, name));
        CHECK(by_name[name] <= grew(p0, p3, name));
    }
    CHECK(by_name["net_rx"] >= 2 * static_cast<uint64_t>(round_trips));

    // -C: the same counts in the TOTAL_count column, within the same bounds.
    REQUIRE(!lines(c.out).empty());
    CHECK(fields(lines(c.out)[0]) == std::vector<std::string>{"SOFTIRQ", "TOTAL_count"});
    bool found = false;
    for (const std::string& line : lines(c.out)) {
        auto f = fields(line);
        if (f.size() != 2 || f[0] != "net_rx") continue;
        found = true;
        CHECK(std::stoull(f[1]) >= grew(p1, p2, "net_rx"));
        CHECK(std::stoull(f[1]) <= grew(p0, p3, "net_rx"));
    }
    CHECK(found);

    // -D: a histogram per vector; its buckets hold every run it counted.
    found = false;
    for (const json& r : json_lines(h.out)) {
        INFO(r.dump());
        CHECK(r.at("type") == "histogram");
        uint64_t in_buckets = 0;
        for (const json& b : r.at("buckets"))
            in_buckets += b.at("count").get<uint64_t>();
        CHECK(in_buckets == r.at("total").get<uint64_t>());
        CHECK(r.at("total") == r.at("count"));
        if (r.at("name") != "net_rx") continue;
        found = true;
        CHECK(r.at("vec") == 3);
        CHECK(r.at("count").get<uint64_t>() >= grew(p1, p2, "net_rx"));
        CHECK(r.at("count").get<uint64_t>() <= grew(p0, p3, "net_rx"));
    }
    CHECK(found);
}

TEST_CASE("softirqs --slower prints each run over the threshold, in the task it ran in",
          "[softirqs]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("sslow-");
    ToolProcess every({tool_path("softirqs"), "--slower", "0", "-o", "json"});
    ToolProcess text({tool_path("softirqs"), "--slower", "0", "-T"});
    // No softirq takes, or waits, a second on a working host.
    ToolProcess none({tool_path("softirqs"), "--slower", "1000", "-o", "json"});
    REQUIRE(every.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(none.wait_attached());
    pid_t child = loopback_ping_pong(comm);
    Finished e = every.stop();
    Finished t = text.stop();
    Finished n = none.stop();
    CHECK(e.exit_code == 0);
    CHECK(t.exit_code == 0);
    CHECK(n.exit_code == 0);
    CHECK(n.out.empty());

    // The child's sends run NET_RX as they leave the socket lock, in the
    // child itself, unless ksoftirqd took them over: most of its 400.
    uint64_t in_child = 0, waits = 0;
    for (const json& r : json_lines(e.out)) {
        if (r.at("pid") != child) continue;
        INFO(r.dump());
        CHECK(r.at("tid") == child);
        // A softirq may run in the child before it has taken its name (one
        // did, under the sanitizers); its sends come after.
        if (r.at("softirq") != "net_rx") continue;
        CHECK(r.at("comm") == comm);
        in_child++;
        CHECK(r.at("vec") == 3);
        CHECK(r.at("cpu").get<int>() >= 0);
        CHECK(r.at("cpu").get<long>() < sysconf(_SC_NPROCESSORS_CONF));
        CHECK(r.at("run_ms").get<double>() > 0);
        // Raised by this child's own transmit, on this CPU, moments before.
        if (!r.at("wait_ms").is_null()) {
            waits++;
            CHECK(r.at("wait_ms").get<double>() < 1000);
        }
    }
    CHECK(in_child >= static_cast<uint64_t>(round_trips));
    CHECK(waits == in_child);

    auto text_lines = lines(t.out);
    REQUIRE(!text_lines.empty());
    CHECK(fields(text_lines[0]) ==
          std::vector<std::string>{"TIME", "SOFTIRQ", "CPU", "LAT(ms)", "WAIT(ms)", "PID", "COMM"});
    CHECK(lines_containing(t.out, comm).size() >= static_cast<size_t>(round_trips));
}

TEST_CASE("softirqs interval and count print that many summaries and exit 0", "[softirqs]") {
    REQUIRE_BPF();
    double started = now_s();
    ToolProcess jsonl({tool_path("softirqs"), "-o", "json", "1", "2"});
    ToolProcess text({tool_path("softirqs"), "-T", "-m", "1", "2"});
    Finished j = jsonl.wait(10);
    double wall = now_s() - started;
    Finished t = text.wait(10);
    CHECK(j.exit_code == 0);
    CHECK(t.exit_code == 0);
    auto records = json_lines(j.out);
    REQUIRE(records.size() == 2);
    check_intervals(records, 1, wall);
    for (const json& r : records) {
        // Timers tick on every CPU every interval.
        CHECK(r.at("count").get<uint64_t>() > 0);
    }
    int headers = 0, stamps = 0;
    for (const std::string& line : lines(t.out)) {
        if (fields(line) == std::vector<std::string>{"SOFTIRQ", "TOTAL_msecs"}) headers++;
        if (line.size() == 10 && line[0] == '[' && line[3] == ':' && line[6] == ':') stamps++;
    }
    CHECK(headers == 2);
    CHECK(stamps == 2);
}

} // namespace test_softirqs
