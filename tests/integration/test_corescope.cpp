// The corescope front end: list, doctor, and triage against conditions the
// test provokes itself.
#include "harness.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pty.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace itest;
using nlohmann::json;

namespace {

std::string corescope() {
    return tool_path("corescope");
}

// Runs triage for `seconds` while `workload` runs in this process.
json triage_during(int seconds, const std::function<void(std::atomic<bool>&)>& workload) {
    ToolProcess p({corescope(), "triage", "-d", std::to_string(seconds), "-o", "json"});
    REQUIRE(p.wait_attached());
    std::atomic<bool> stop{false};
    std::thread load([&] { workload(stop); });
    Finished r = p.wait(seconds + 30);
    stop = true;
    load.join();
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
}

const json* finding_about(const json& report, const std::string& words) {
    for (const json& f : report.at("findings"))
        if (f.at("what").get<std::string>().find(words) != std::string::npos) return &f;
    return nullptr;
}

} // namespace

TEST_CASE("corescope list names every tool with a summary", "[corescope]") {
    Finished r = run({corescope(), "list"});
    CHECK(r.exit_code == 0);
    for (std::string tool : {"execsnoop", "opensnoop", "biolatency"}) {
        bool found = false;
        for (const std::string& line : lines(r.out))
            if (line.rfind(tool + " ", 0) == 0 && line.size() > tool.size() + 10) found = true;
        CHECK(found);
    }
    Finished unknown = run({corescope(), "nosuchtool"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("nosuchtool") != std::string::npos);
}

TEST_CASE("corescope TOOL runs the tool as its standalone executable does", "[corescope]") {
    Finished help = run({corescope(), "opensnoop", "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out == run({tool_path("opensnoop"), "--help"}).out);
    Finished bad = run({corescope(), "opensnoop", "-p", "abc"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("'abc'") != std::string::npos);
}

TEST_CASE("corescope doctor reports this kernel as it is, and its available tools start",
          "[corescope]") {
    REQUIRE_BPF();
    Finished r = run({corescope(), "doctor", "-o", "json"}, 120);
    REQUIRE(r.exit_code == 0);
    json d = json::parse(r.out);
    CHECK(d.at("btf") == (access("/sys/kernel/btf/vmlinux", F_OK) == 0));
    CHECK(d.at("tracefs") == (access("/sys/kernel/tracing/events", F_OK) == 0 ||
                              access("/sys/kernel/debug/tracing/events", F_OK) == 0));
    bool kprobes = access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
    CHECK(d.at("attach_types").at("kprobe").at("supported") == kprobes);
    if (!kprobes)
        CHECK(
            d.at("attach_types").at("kprobe").at("reason").get<std::string>().find("no kprobes") !=
            std::string::npos);
    CHECK(d.at("attach_types").at("tp_btf").at("supported") == true); // BTF and a 5.5+ kernel here
    CHECK(d.at("bpf_permitted") == true);
    REQUIRE(d.at("tools").size() >= 3);
    for (const json& tool : d.at("tools")) {
        std::string name = tool.at("tool");
        INFO(name);
        if (!tool.at("available")) {
            CHECK(!tool.at("reason").get<std::string>().empty());
            continue;
        }
        CHECK(tool.at("plan").at("type") == "attach_plan");
        ToolProcess p({tool_path(name)});
        CHECK(p.wait_attached());
        CHECK(p.stop().exit_code == 0);
    }
    Finished text = run({corescope(), "doctor"}, 120);
    CHECK(text.out.find("kprobe") != std::string::npos);
    CHECK(text.out.find("tools:") != std::string::npos);
}

TEST_CASE("triage finds run-queue latency when more threads spin than there are CPUs", "[triage]") {
    REQUIRE_BPF();
    unsigned cpus = std::thread::hardware_concurrency();
    json report = triage_during(4, [&](std::atomic<bool>& stop) {
        std::vector<std::thread> spinners;
        for (unsigned i = 0; i < cpus * 4; i++)
            spinners.emplace_back([&] {
                volatile uint64_t x = 0;
                while (!stop)
                    x = x + 1;
            });
        for (auto& t : spinners)
            t.join();
    });
    const json* f = finding_about(report, "wait long for a CPU");
    REQUIRE(f);
    CHECK(f->at("severity") == "warning");
    CHECK(f->at("evidence").get<std::string>().find("PID " + std::to_string(getpid())) !=
          std::string::npos);
    CHECK(report.at("run_queue_latency").at("p99").get<uint64_t>() > 10000);
}

TEST_CASE("triage finds an exec storm and names the command", "[triage]") {
    REQUIRE_BPF();
    json report = triage_during(3, [](std::atomic<bool>& stop) {
        while (!stop) {
            pid_t pid = fork();
            if (pid == 0) {
                execl("/bin/true", "true", nullptr);
                _exit(127);
            }
            waitpid(pid, nullptr, 0);
        }
    });
    const json* f = finding_about(report, "new processes");
    REQUIRE(f);
    CHECK(f->at("evidence").get<std::string>().find("true (") != std::string::npos);
    CHECK(report.at("execs").get<uint64_t>() > 150);
}

TEST_CASE("triage finds a burst of failing opens with their error", "[triage]") {
    REQUIRE_BPF();
    std::string missing = "/tmp/" + unique_token("triage-missing");
    json report = triage_during(3, [&](std::atomic<bool>& stop) {
        while (!stop) {
            for (int i = 0; i < 100; i++)
                open(missing.c_str(), O_RDONLY);
            usleep(1000);
        }
    });
    const json* f = finding_about(report, "opens fail");
    REQUIRE(f);
    CHECK(f->at("evidence").get<std::string>().find("ENOENT") != std::string::npos);
    CHECK(report.at("failed_opens").get<uint64_t>() > 300);
}

TEST_CASE("triage measures disk latency and utilization under O_DIRECT writes", "[triage]") {
    REQUIRE_BPF();
    std::string path = "/tmp/" + unique_token("triage-odirect");
    json report = triage_during(4, [&](std::atomic<bool>& stop) {
        int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_DIRECT | O_DSYNC, 0600);
        REQUIRE(fd >= 0);
        void* buf = nullptr;
        REQUIRE(posix_memalign(&buf, 4096, 65536) == 0);
        memset(buf, 'x', 65536);
        for (off_t off = 0; !stop; off = (off + 65536) % (64 << 20))
            if (pwrite(fd, buf, 65536, off) != 65536) break;
        free(buf);
        close(fd);
    });
    unlink(path.c_str());
    // The disk under /tmp: the one whose I/O latency histogram has samples.
    bool found = false;
    for (const json& disk : report.at("disks")) {
        if (disk.at("latency").at("total").get<uint64_t>() < 50) continue;
        found = true;
        CHECK(disk.at("writes_per_s").get<double>() > 10);
        CHECK(disk.at("util_percent").get<double>() > 0); // how busy depends on the device
        CHECK(disk.at("latency").at("p99").get<uint64_t>() > 0);
        if (disk.at("util_percent").get<double>() > 80) {
            const json* f = finding_about(report, "Disk " + disk.at("name").get<std::string>() +
                                                      " is nearly always busy");
            CHECK(f);
        }
    }
    CHECK(found);
}

TEST_CASE("triage reports an OOM kill in a memory-limited cgroup as critical", "[triage]") {
    REQUIRE_BPF();
    MemoryLimitedCgroup cgroup(unique_token("corescope-triage-oom"), 32ull << 20);
    if (!cgroup.ok()) {
        SKIP_CASE(cgroup.why());
    }
    pid_t victim = -1;
    json report = triage_during(4, [&](std::atomic<bool>&) {
        victim = fork();
        if (victim == 0) {
            if (!cgroup.enter()) _exit(2);
            // tail reads one endless line: memory grows until the kernel
            // kills it. (Not this binary's malloc: under ASan the allocator
            // gives up first.)
            execl("/usr/bin/tail", "tail", "/dev/zero", static_cast<char*>(nullptr));
            _exit(127);
        }
        int status = 0;
        waitpid(victim, &status, 0);
        CHECK(WIFSIGNALED(status));
    });
    const json* f = finding_about(report, "killed processes for lack of memory");
    REQUIRE(f);
    CHECK(f->at("severity") == "critical");
    CHECK(f->at("evidence").get<std::string>().find("PID " + std::to_string(victim)) !=
          std::string::npos);
    CHECK(report.at("findings")[0].at("severity") == "critical"); // ordered by severity
}

TEST_CASE("triage on a quiet window says there are no findings, in text", "[triage]") {
    REQUIRE_BPF();
    Finished r = run({corescope(), "triage", "-d", "2"}, 60);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("== Findings") != std::string::npos);
    CHECK(r.out.find("== CPU") != std::string::npos);
    CHECK(r.out.find("triage's own CPU time") != std::string::npos);
    CHECK(r.err.empty()); // stderr is a pipe here: no progress noise
    for (const std::string& line : lines(r.out))
        CHECK(line.size() <= 80);
}

TEST_CASE("triage in a network namespace finds the retransmissions provoked there", "[triage]") {
    REQUIRE_BPF();
    if (!have_command("nft") || !have_command("ip")) {
        SKIP_CASE("needs nft and ip (scripts/setup.sh installs nftables and iproute2)");
    }
    NetNamespace ns("cs-triage");
    REQUIRE(ns.ok());
    // TCP counters (/proc/net/snmp) belong to a network namespace: triage
    // reads those of the namespace it runs in, as it would in a container.
    std::string netns_path = "/run/netns/" + ns.name();
    int netns_fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(netns_fd >= 0);
    ToolProcess p({corescope(), "triage", "-d", "4", "-o", "json"}, ToolProcess::Stdout::pipe,
                  [netns_fd] { setns(netns_fd, CLONE_NEWNET); });
    close(netns_fd);
    REQUIRE(p.wait_attached());
    Ports ports = provoke_retransmissions(ns, 1500);
    REQUIRE(ports.server != 0);
    Finished r = p.wait(40);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json report = json::parse(r.out);
    const json& tcp = report.at("tcp");
    CHECK(tcp.at("retrans_segs").get<uint64_t>() >= 2);
    CHECK(tcp.at("retrans_percent").get<double>() > 1.0);
    const json* f = finding_about(report, "TCP is retransmitting");
    REQUIRE(f);
    CHECK(f->at("severity") == "warning");
    CHECK(f->at("evidence").get<std::string>().find("segments retransmitted") != std::string::npos);
}

TEST_CASE("triage shows the time left on a terminal's stderr, and the report on stdout",
          "[triage]") {
    REQUIRE_BPF();
    int master = -1, terminal = -1;
    REQUIRE(openpty(&master, &terminal, nullptr, nullptr, nullptr) == 0);
    ToolProcess p({corescope(), "triage", "-d", "3"}, ToolProcess::Stdout::pipe,
                  [terminal] { dup2(terminal, STDERR_FILENO); });
    close(terminal);
    std::string shown;
    std::thread reader([&] {
        char buf[4096];
        for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;)
            shown.append(buf, static_cast<size_t>(n));
    });
    Finished r = p.wait(60);
    reader.join(); // EIO once the last holder of the terminal is gone
    close(master);
    CHECK(r.exit_code == 0);
    CHECK(shown.find("s left") != std::string::npos);
    CHECK(shown.find("== Findings") == std::string::npos); // the report is not on stderr
    CHECK(r.out.find("== Findings") != std::string::npos);
    CHECK(r.out.find("s left") == std::string::npos);
}
