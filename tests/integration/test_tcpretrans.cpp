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

namespace test_tcpretrans {

using namespace itest;
using nlohmann::json;

namespace {

// The connection's retransmissions as the kernel made them, recorded by
// ftrace (a TraceInstance on tcp:tcp_retransmit_skb, started before the
// connection), which runs where BPF programs may not: on the sandbox these
// tests were written on, a retransmission made in a softirq on top of its
// agent's thread reaches no BPF program, for every tool alike
// (bpf_blind_task, docs/reliability.md).
struct KernelRetransmits {
    uint64_t all = 0;
    uint64_t blind = 0;
};

KernelRetransmits kernel_retransmits(const TraceInstance& trace, const Ports& ports) {
    KernelRetransmits k;
    std::string connection =
        "sport=" + std::to_string(ports.client) + " dport=" + std::to_string(ports.server) + " ";
    for (const TraceInstance::Record& r : trace.records()) {
        if (r.fields.find(connection) == std::string::npos) continue;
        k.all++;
        if (bpf_blind_task(r.task)) k.blind++;
    }
    return k;
}

// The tool must report every retransmission the namespace counted but
// those made where no BPF program runs, which the kernel's own record
// names; without that record (no tracefs instance), all but one at most.
void check_reported_all(uint64_t reported, uint64_t retransmissions,
                        const KernelRetransmits* kernel) {
    INFO("reported " << reported << " of the " << retransmissions
                     << " retransmissions the namespace counted");
    CHECK(retransmissions >= 2);
    if (kernel) {
        INFO("the kernel traced " << kernel->all << ", " << kernel->blind
                                  << " where no BPF program runs");
        CHECK(kernel->all == retransmissions);
        CHECK(reported + kernel->blind == kernel->all);
        if (kernel->blind) WARN("a retransmission was made where no BPF program runs");
    } else {
        CHECK(reported <= retransmissions);
        CHECK(reported + 1 >= retransmissions);
    }
}

// Started before the retransmissions; the record, when tracefs gave one.
struct RetransmitTrace {
    TraceInstance trace{"tcp/tcp_retransmit_skb", "family == 2"};
    KernelRetransmits kernel;
    const KernelRetransmits* read(const Ports& ports) {
        if (!trace.ok()) return nullptr;
        kernel = kernel_retransmits(trace, ports);
        return &kernel;
    }
};

} // namespace

TEST_CASE("tcpretrans reports retransmissions with the connection's addresses and ports",
          "[tcpretrans]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns("cs-tcpretrans");
    REQUIRE(ns.ok());
    ToolProcess text({tool_path("tcpretrans")});
    ToolProcess jsonl({tool_path("tcpretrans"), "-o", "json"});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    RetransmitTrace trace;
    Ports ports = provoke_retransmissions(ns, 700);
    REQUIRE(ports.client != 0);
    const KernelRetransmits* kernel = trace.read(ports);
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
    check_reported_all(text_hits, ports.retransmissions, kernel);

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
    check_reported_all(json_hits, ports.retransmissions, kernel);
    CHECK(json_hits == text_hits); // both see what the kernel hands BPF
}

TEST_CASE("tcpretrans reports retransmissions through each of its tiers", "[tcpretrans]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns("cs-tcpretrans");
    REQUIRE(ns.ok());
    // CORESCOPE_SKIP_ATTACH takes the lower tiers on a kernel that has the
    // higher ones (the tracepoint's record differs between kernels).
    ToolProcess raw({tool_path("tcpretrans"), "-v", "-o", "json"}, ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf", 1); });
    ToolProcess tp({tool_path("tcpretrans"), "-v", "-o", "json"}, ToolProcess::Stdout::pipe,
                   [] { setenv("CORESCOPE_SKIP_ATTACH", "tp_btf,raw_tp", 1); });
    REQUIRE(raw.wait_attached());
    REQUIRE(tp.wait_attached());
    RetransmitTrace trace;
    Ports ports = provoke_retransmissions(ns, 700);
    REQUIRE(ports.client != 0);
    const KernelRetransmits* kernel = trace.read(ports);
    std::string lport = "\"lport\":" + std::to_string(ports.client);
    REQUIRE(raw.wait_for_output(lport));
    REQUIRE(tp.wait_for_output(lport));
    Finished r = raw.stop();
    Finished t = tp.stop();
    CHECK(r.exit_code == 0);
    CHECK(t.exit_code == 0);
    CHECK(r.err.find("TCP retransmissions: raw_tp:tcp_retransmit_skb") != std::string::npos);
    CHECK(t.err.find("TCP retransmissions: tracepoint:tcp:tcp_retransmit_skb") !=
          std::string::npos);
    std::vector<uint64_t> reported;
    for (const Finished* f : {&r, &t}) {
        uint64_t hits = 0;
        for (const std::string& line : lines(f->out)) {
            json e = json::parse(line);
            if (e.at("lport") != ports.client) continue;
            hits++;
            CHECK(e.at("laddr") == "127.0.0.1");
            CHECK(e.at("raddr") == "127.0.0.2");
            CHECK(e.at("rport") == ports.server);
            CHECK(e.at("state") == "ESTABLISHED");
        }
        check_reported_all(hits, ports.retransmissions, kernel);
        reported.push_back(hits);
    }
    CHECK(reported[0] == reported[1]);
}

TEST_CASE("tcpretrans --count counts a connection's retransmissions", "[tcpretrans]") {
    REQUIRE_BPF();
    REQUIRE_NETNS_TOOLS();
    NetNamespace ns("cs-tcpretrans");
    REQUIRE(ns.ok());
    ToolProcess counter({tool_path("tcpretrans"), "--count", "-o", "json"});
    ToolProcess tracer({tool_path("tcpretrans"), "-o", "json"});
    REQUIRE(counter.wait_attached());
    REQUIRE(tracer.wait_attached());
    RetransmitTrace trace;
    Ports ports = provoke_retransmissions(ns, 700);
    REQUIRE(ports.client != 0);
    const KernelRetransmits* kernel = trace.read(ports);
    // Both counted in the kernel as the retransmissions happened: the
    // counter's map and the tracer's buffer hold them all by now.
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
    check_reported_all(counted, ports.retransmissions, kernel);
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

} // namespace test_tcpretrans
