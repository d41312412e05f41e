// The corescope front end: list, doctor, and triage against conditions the
// test provokes itself.
#include "harness.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <pty.h>
#include <spawn.h>
#include <sched.h>
#include <set>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace test_corescope {

using namespace itest;
using nlohmann::json;

namespace {

std::string corescope() {
    return tool_path("corescope");
}

// Runs triage for `seconds` while `workload` runs in this process.
// triage's window lasts at least seconds, and until the workload is done:
// triage runs with a far bound and is stopped with SIGINT (it then reports
// the window so far) once both hold. A workload that loops until stop is
// stopped after seconds. (A fixed -d window once ended before a slow OOM
// kill on a busy machine.)
json triage_during(int seconds, const std::function<void(std::atomic<bool>&)>& workload) {
    ToolProcess p({corescope(), "triage", "-d", "600", "-o", "json"});
    REQUIRE(p.wait_attached());
    double started = now_s();
    std::atomic<bool> stop{false};
    std::thread load([&] { workload(stop); });
    while (now_s() - started < seconds)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop = true;
    load.join();
    Finished r = p.stop(SIGINT, 60);
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
    // One line a tool, each with its name and a summary, and no other line.
    std::vector<std::string> listed = lines(r.out);
    CHECK(listed.size() == tool_names().size());
    for (const std::string& tool : tool_names()) {
        INFO(tool);
        int found = 0;
        for (const std::string& line : listed) {
            std::vector<std::string> f = fields(line);
            if (!f.empty() && f[0] == tool && f.size() >= 4) found++;
        }
        CHECK(found == 1);
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
    // An alias too, under its own name.
    CHECK(run({corescope(), "ext4slower", "--help"}).out ==
          run({tool_path("ext4slower"), "--help"}).out);
}

TEST_CASE("corescope doctor reports this kernel as it is, and its available tools start",
          "[corescope]") {
    REQUIRE_BPF();
    // Doctor dry-runs each tool under test once, one after another (each
    // waits on the kernel more than it computes: running them side by side
    // saved nothing): 13 s for 69 tools at a load of 9. Every tool, or the
    // sanitize suite's slice (CORESCOPE_TEST_TOOLS) by name.
    std::vector<std::string> under_test = tools_under_test();
    std::vector<std::string> argv = {corescope(), "doctor", "-o", "json"};
    if (under_test != tool_names()) {
        std::string names;
        for (const std::string& tool : under_test)
            names += (names.empty() ? "" : ",") + tool;
        argv.push_back(names);
    }
    Finished r = run(argv, 400);
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
    // Every tool, each either with the plan it would use here, which it
    // then attaches in full when started (a group side by side), or with
    // the reason it cannot run.
    std::set<std::string> reported;
    std::map<std::string, int> planned_points; // perf_event plans left out: one link per CPU
    for (const json& tool : d.at("tools")) {
        std::string name = tool.at("tool");
        INFO(name);
        reported.insert(name);
        if (!tool.at("available")) {
            CHECK(!tool.at("reason").get<std::string>().empty());
            continue;
        }
        const json& plan = tool.at("plan");
        CHECK(plan.at("type") == "attach_plan");
        CHECK(plan.at("tool") == name);
        if (!tool_loads_bpf(name)) {
            // tplist: available where what it reads is there, nothing to attach.
            CHECK(plan.at("steps").empty());
            continue;
        }
        int points = 0;
        bool per_cpu = false;
        for (const json& step : plan.at("steps"))
            for (const json& point : step.at("attach")) {
                points++;
                per_cpu = per_cpu || point.at("kind") == "perf_event";
            }
        CHECK(points > 0);
        planned_points[name] = per_cpu ? -1 : points;
    }
    std::vector<std::string> available;
    for (const auto& [name, points] : planned_points)
        available.push_back(name);
    for (const std::vector<std::string>& group : in_groups(available)) {
        std::vector<std::unique_ptr<ToolProcess>> tools;
        for (const std::string& name : group)
            tools.push_back(
                std::make_unique<ToolProcess>(std::vector<std::string>{tool_path(name)}));
        for (size_t i = 0; i < group.size(); i++) {
            INFO(group[i]);
            CHECK(tools[i]->wait_attached(60));
            int points = planned_points[group[i]];
            if (points >= 0) CHECK(bpf_link_count(tools[i]->pid()) == points);
        }
        for (size_t i = 0; i < group.size(); i++) {
            INFO(group[i]);
            CHECK(tools[i]->stop().exit_code == 0);
        }
    }
    CHECK(reported == std::set<std::string>(under_test.begin(), under_test.end()));
    // The text report, for the tools named: their rows only, each with the
    // same tier as in the JSON plan.
    Finished text = run({corescope(), "doctor", "opensnoop,biolatency"}, 60);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("kprobe") != std::string::npos);
    std::vector<std::string> rows;
    bool in_tools = false;
    for (const std::string& line : lines(text.out)) {
        if (in_tools) rows.push_back(line);
        in_tools = in_tools || line == "tools:";
    }
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].rfind("  opensnoop      available: ", 0) == 0);
    CHECK(rows[1].rfind("  biolatency     available: ", 0) == 0);
    for (const json& tool : d.at("tools"))
        if (tool.at("tool") == "biolatency") {
            const json& point = tool.at("plan").at("steps").at(0).at("attach").at(0);
            std::string shown = point.at("kind").get<std::string>() + ":";
            INFO(rows[1]);
            CHECK(rows[1].find(shown) != std::string::npos);
        }
    Finished unknown = run({corescope(), "doctor", "opensnoop,nosuchtool"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("unknown tool 'nosuchtool'") != std::string::npos);
    CHECK(unknown.out.empty());
}

TEST_CASE("triage finds run-queue latency when more threads spin than there are CPUs", "[triage]") {
    REQUIRE_BPF();
    unsigned cpus = std::thread::hardware_concurrency();
    // Spinning before triage starts and until it ends, so they fill its
    // whole window however long its attach takes on a busy machine (once,
    // at load 15, the spinners started after the attach had used most of
    // a 4 s window, and the window held too few waits).
    std::atomic<bool> stop{false};
    std::vector<std::thread> spinners;
    for (unsigned i = 0; i < cpus * 4; i++)
        spinners.emplace_back([&] {
            volatile uint64_t x = 0;
            while (!stop)
                x = x + 1;
        });
    Finished r = run({corescope(), "triage", "-d", "4", "-o", "json"}, 120);
    stop = true;
    for (auto& t : spinners)
        t.join();
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    json report = json::parse(r.out);
    const json* f = finding_about(report, "wait long for a CPU");
    REQUIRE(f);
    CHECK(f->at("severity") == "warning");
    CHECK(f->at("evidence").get<std::string>().find("PID " + std::to_string(getpid())) !=
          std::string::npos);
    CHECK(report.at("run_queue_latency").at("p99").get<uint64_t>() > 10000);
}

// A command's count in one of triage's {"name", "count"} lists.
uint64_t count_of(const json& list, const std::string& name) {
    for (const json& e : list)
        if (e.at("name") == name) return e.at("count").get<uint64_t>();
    return 0;
}

// The storms below make a known number of events, all inside the window,
// from a command name of this test's own: triage must count each of them
// (its totals are system-wide and may hold more).
TEST_CASE("triage finds an exec storm and names the command", "[triage]") {
    REQUIRE_BPF();
    constexpr int execs = 250; // 62 a second over the window: above 50
    std::string name = unique_comm("cstrue");
    std::string program = "/tmp/" + name;
    REQUIRE(std::system(("cp /bin/true " + program).c_str()) == 0);
    json report = triage_during(4, [&](std::atomic<bool>&) {
        // posix_spawn: no copy of this large process's page tables, as fork
        // makes, so the storm keeps its rate on a busy machine.
        std::vector<char> arg0(name.begin(), name.end());
        arg0.push_back('\0');
        char* argv[] = {arg0.data(), nullptr};
        for (int i = 0; i < execs; i++) {
            pid_t pid = -1;
            REQUIRE(posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) == 0);
            int status = 0;
            waitpid(pid, &status, 0);
            CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        }
    });
    unlink(program.c_str());
    const json* f = finding_about(report, "new processes");
    REQUIRE(f);
    CHECK(f->at("evidence").get<std::string>().find(name + " (") != std::string::npos);
    CHECK(count_of(report.at("exec_commands"), name) == execs);
    CHECK(report.at("execs").get<uint64_t>() >= execs);
}

TEST_CASE("triage finds a burst of failing opens with their error", "[triage]") {
    REQUIRE_BPF();
    constexpr int opens = 2000; // 500 a second over the window: above 100
    std::string name = unique_comm("csopen");
    std::string missing = "/tmp/" + unique_token("triage-missing");
    json report = triage_during(4, [&](std::atomic<bool>&) {
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_NAME, name.c_str());
            for (int i = 0; i < opens; i++)
                if (open(missing.c_str(), O_RDONLY) >= 0) _exit(1);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    });
    const json* f = finding_about(report, "opens fail");
    REQUIRE(f);
    CHECK(f->at("evidence").get<std::string>().find("ENOENT") != std::string::npos);
    CHECK(count_of(report.at("failed_open_commands"), name) == opens);
    CHECK(count_of(report.at("failed_open_errors"), "ENOENT") >= opens);
    CHECK(report.at("failed_opens").get<uint64_t>() >= opens);
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

// Whether a window has findings depends on the machine (a test run's own
// load crosses the CPU thresholds); the sentence for none is checked in
// tests/unit/test_triage_report.cpp, on a report made quiet.
TEST_CASE("triage in text: findings first, each with its evidence and threshold, or a "
          "sentence saying there are none",
          "[triage]") {
    REQUIRE_BPF();
    Finished r = run({corescope(), "triage", "-d", "2"}, 60);
    REQUIRE(r.exit_code == 0);
    INFO(r.out);
    // The Findings section: "No findings: ..." alone, or blocks that each
    // open with "[severity] sentence" and carry a "threshold:" line.
    std::vector<std::string> section;
    bool in_findings = false;
    for (const std::string& line : lines(r.out)) {
        if (line.rfind("== ", 0) == 0) {
            if (in_findings) break;
            in_findings = line == "== Findings";
            continue;
        }
        if (in_findings && !line.empty()) section.push_back(line);
    }
    REQUIRE(!section.empty());
    if (section[0].rfind("No findings", 0) == 0) {
        CHECK(section.size() == 1);
    } else {
        int findings = 0, thresholds = 0;
        for (const std::string& line : section) {
            if (line[0] == '[') {
                findings++;
                CHECK((line.rfind("[critical] ", 0) == 0 || line.rfind("[warning] ", 0) == 0 ||
                       line.rfind("[notice] ", 0) == 0));
            }
            if (line.find("    threshold: ") == 0) thresholds++;
        }
        CHECK(section[0][0] == '[');
        CHECK(findings >= 1);
        CHECK(thresholds == findings);
    }
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

} // namespace test_corescope
