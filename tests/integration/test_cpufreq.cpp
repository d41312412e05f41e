// cpufreq: where the machine has no cpufreq driver (this VM), one line
// saying so and exit 1. The sampling and the summing are then shown
// against a cpufreq directory of the test's own (CORESCOPE_CPUFREQ_DIR):
// the CPUs' frequencies it names are what the tool starts from, and with
// no driver nothing changes them, so two children spinning each pinned to
// a CPU of a known frequency must land in that CPU's 200 MHz step, per
// process and system-wide, and -p shows one of them only.
#include "harness.h"
#include "json_lines.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace test_cpufreq {

using namespace itest;
using nlohmann::json;

namespace {

// The frequency of CPU n in the test's directory: 1000 MHz, 2400 MHz, ...
unsigned test_mhz(long cpu) {
    return cpu == 0 ? 1000 : 2400;
}

// A directory laid out as /sys/devices/system/cpu for every possible CPU,
// each cpufreq/scaling_cur_freq (kHz) at test_mhz; CORESCOPE_CPUFREQ_DIR
// names it while it lives (the tools started meanwhile inherit it).
class FakeCpufreq {
  public:
    FakeCpufreq() : dir_("/tmp/" + unique_token("corescope-cpufreq")) {
        mkdir(dir_.c_str(), 0755);
        long cpus = sysconf(_SC_NPROCESSORS_CONF);
        for (long cpu = 0; cpu < cpus; cpu++) {
            std::string d = dir_ + "/cpu" + std::to_string(cpu);
            mkdir(d.c_str(), 0755);
            mkdir((d + "/cpufreq").c_str(), 0755);
            std::ofstream(d + "/cpufreq/scaling_cur_freq") << test_mhz(cpu) * 1000 << "\n";
        }
        setenv("CORESCOPE_CPUFREQ_DIR", dir_.c_str(), 1);
    }
    ~FakeCpufreq() {
        unsetenv("CORESCOPE_CPUFREQ_DIR");
        sh("rm -rf " + dir_);
    }

  private:
    std::string dir_;
};

// Spins on cpu for 0.5 s of its own CPU time.
// Pins pid (0: the caller) to one CPU.
bool pin(pid_t pid, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(pid, sizeof set, &set) == 0;
}

int spin_on(int cpu) {
    if (!pin(0, cpu)) return 1;
    timespec start{}, now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    volatile unsigned long sink = 0;
    do {
        for (int i = 0; i < 100000; i++)
            sink = sink + 1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    } while ((now.tv_sec - start.tv_sec) * 1e9 + (now.tv_nsec - start.tv_nsec) < 0.5e9);
    return 0;
}

// A file descriptor of the BPF program named name that pid holds; -1 if none.
int program_of(pid_t pid, const std::string& name) {
    for (unsigned id : bpf_programs_held_by(pid)) {
        int fd = bpf_prog_get_fd_by_id(id);
        if (fd < 0) continue;
        bpf_prog_info info{};
        __u32 size = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &size) == 0 && name == info.name) return fd;
        close(fd);
    }
    return -1;
}

// The histogram records of one scope (and pid) in JSON Lines.
std::vector<json> histograms(const std::string& text, const std::string& scope, int pid = 0) {
    std::vector<json> out;
    for (const json& j : json_lines(text))
        if (j.at("scope") == scope && (pid == 0 || j.value("pid", 0) == pid)) out.push_back(j);
    return out;
}

} // namespace

TEST_CASE("cpufreq without a cpufreq driver says so in one line and exits 1", "[cpufreq]") {
    REQUIRE_BPF();
    bool driver = access("/sys/devices/system/cpu/cpu0/cpufreq", F_OK) == 0;
    std::string missing = "/tmp/" + unique_token("no-cpufreq");
    setenv("CORESCOPE_CPUFREQ_DIR", missing.c_str(), 1);
    Finished r = run({tool_path("cpufreq"), "-d", "1"});
    Finished dry = run({tool_path("cpufreq"), "--dry-run"});
    unsetenv("CORESCOPE_CPUFREQ_DIR");
    std::vector<Finished> refused{r, dry};
    if (!driver) refused.push_back(run({tool_path("cpufreq"), "-d", "1"}));
    for (const Finished& f : refused) {
        CHECK(f.exit_code == 1);
        CHECK(std::count(f.err.begin(), f.err.end(), '\n') == 1);
        CHECK(f.err.find("cpufreq: no CPU frequency driver here: ") == 0);
        CHECK(f.err.find("/cpu0/cpufreq does not exist") != std::string::npos);
        CHECK(f.out.empty());
    }
}

TEST_CASE("cpufreq puts each child's samples at its CPU's frequency, per process and "
          "system-wide; -p shows one child only",
          "[cpufreq]") {
    REQUIRE_BPF();
    FakeCpufreq fake;
    int second = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
    GatedChild slow([] { return spin_on(0); }, "cf-slow");
    GatedChild fast([second] { return spin_on(second); }, "cf-fast");
    // Pinned while held at the gate: they wake on their CPUs, where a sample
    // taken before their own pin once put one of the slow child's on the
    // fast CPU (a CI run, 2026-12-06).
    REQUIRE(pin(slow.pid(), 0));
    REQUIRE(pin(fast.pid(), second));
    TestCgroup cgroup(unique_token("cpufreq"));
    REQUIRE(!cgroup.path.empty());
    REQUIRE(cgroup.add(fast.pid()));
    ToolProcess all({tool_path("cpufreq"), "-P", "-o", "json", "-f", "199"});
    ToolProcess text({tool_path("cpufreq"), "-P", "-n", "cf-", "-T"});
    ToolProcess one({tool_path("cpufreq"), "-o", "json", "-p", std::to_string(fast.pid())});
    // -c (the fast child's cgroup) and -u together, with -v and --btf.
    ToolProcess in_cgroup({tool_path("cpufreq"), "-P", "-o", "json", "-c", cgroup.path, "-u", "0",
                           "-v", "--btf", "/sys/kernel/btf/vmlinux"});
    for (ToolProcess* p : {&all, &text, &one, &in_cgroup})
        REQUIRE(p->wait_attached());
    REQUIRE(slow.run() == 0);
    REQUIRE(fast.run() == 0);

    Finished a = all.stop();
    INFO(a.out << a.err);
    CHECK(a.exit_code == 0);
    // 0.5 s at 199 Hz is about 100 samples each.
    for (auto [child, mhz] : {std::pair{&slow, test_mhz(0)}, std::pair{&fast, test_mhz(second)}}) {
        std::vector<json> h = histograms(a.out, "process", child->pid());
        REQUIRE(h.size() == 1);
        CHECK(h[0].at("unit") == "MHz");
        CHECK(h[0].at("comm") == (child == &slow ? "cf-slow" : "cf-fast"));
        uint64_t total = h[0].at("total").get<uint64_t>();
        CHECK(total >= 50);
        CHECK(total <= 150);
        REQUIRE(h[0].at("buckets").size() == 1); // one step, from its first to its last
        CHECK(h[0].at("buckets")[0].at("low") == mhz);
        CHECK(h[0].at("buckets")[0].at("high") == mhz + 199);
        CHECK(h[0].at("buckets")[0].at("count") == total);
        CHECK(h[0].at("p50") == mhz + 199);
    }
    // System-wide: every process's samples, both steps among them.
    std::vector<json> system = histograms(a.out, "system");
    REQUIRE(system.size() == 1);
    CHECK(system[0].count("pid") == 0);
    uint64_t per_process = 0;
    for (const json& h : histograms(a.out, "process"))
        per_process += h.at("total").get<uint64_t>();
    CHECK(system[0].at("total") == per_process);
    uint64_t at_1000 = 0, at_2400 = 0;
    for (const json& b : system[0].at("buckets")) {
        if (b.at("low") == 1000) at_1000 = b.at("count");
        if (b.at("low") == 2400) at_2400 = b.at("count");
    }
    CHECK(at_1000 >= 50);
    if (second) CHECK(at_2400 >= 50);

    // Text with -n: the two children's histograms, and the system-wide one
    // of their samples only.
    Finished t = text.stop();
    CHECK(t.exit_code == 0);
    CHECK(lines(t.out).at(0).size() == 8); // -T: HH:MM:SS
    CHECK(t.out.find("\nsystem-wide\n     MHz                 : count    distribution\n") !=
          std::string::npos);
    CHECK(t.out.find("process " + std::to_string(slow.pid()) + " (cf-slow)\n") !=
          std::string::npos);
    CHECK(t.out.find("process " + std::to_string(fast.pid()) + " (cf-fast)\n") !=
          std::string::npos);
    CHECK(t.out.find("      1000 -> 1199       : ") != std::string::npos);
    CHECK(lines_containing(t.out, "process ").size() == 2);

    // -p: the fast child's samples only, all at its CPU's step.
    Finished o = one.stop();
    CHECK(o.exit_code == 0);
    std::vector<json> only = histograms(o.out, "system");
    REQUIRE(only.size() == 1);
    CHECK(histograms(o.out, "process").empty());
    REQUIRE(only[0].at("buckets").size() == 1);
    CHECK(only[0].at("buckets")[0].at("low") == test_mhz(second));
    CHECK(only[0].at("total").get<uint64_t>() >= 25);

    // -c: the fast child, none of the slow one's.
    Finished c = in_cgroup.stop();
    CHECK(c.exit_code == 0);
    CHECK(c.err.find("cpufreq: attach plan") != std::string::npos);
    std::vector<json> grouped = histograms(c.out, "process");
    REQUIRE(grouped.size() == 1);
    CHECK(grouped[0].at("pid") == fast.pid());
}

TEST_CASE("cpufreq follows a cpu_frequency event: its raw_tp program run with CPU 0 at 3000 MHz "
          "moves the samples that follow there",
          "[cpufreq]") {
    REQUIRE_BPF();
    FakeCpufreq fake; // CPU 0 at 1000 MHz
    GatedChild before([] { return spin_on(0); }, "cf-before");
    GatedChild after([] { return spin_on(0); }, "cf-after");
    // No driver fires the tracepoint: the test runs the raw_tp tier's
    // program itself (BPF_PROG_TEST_RUN; tp_btf programs cannot be run so).
    setenv("CORESCOPE_SKIP_ATTACH", "tp_btf", 1);
    ToolProcess tool({tool_path("cpufreq"), "-P", "-o", "json", "-f", "199"});
    bool attached = tool.wait_attached();
    unsetenv("CORESCOPE_SKIP_ATTACH");
    REQUIRE(attached);
    REQUIRE(before.run() == 0);
    int fd = program_of(tool.pid(), "raw_frequency");
    REQUIRE(fd >= 0);
    // cpu_frequency(state, cpu_id): 3000000 kHz on CPU 0.
    __u64 args[2] = {3000000, 0};
    LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof args);
    int err = bpf_prog_test_run_opts(fd, &opts);
    close(fd);
    REQUIRE(err == 0);
    REQUIRE(after.run() == 0);
    Finished r = tool.stop();
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    for (auto [child, mhz] : {std::pair{&before, 1000}, std::pair{&after, 3000}}) {
        std::vector<json> h = histograms(r.out, "process", child->pid());
        REQUIRE(h.size() == 1);
        REQUIRE(h[0].at("buckets").size() == 1);
        CHECK(h[0].at("buckets")[0].at("low") == mhz);
        CHECK(h[0].at("total").get<uint64_t>() >= 50);
    }
}

TEST_CASE("cpufreq rejects -n without -P and a bad -f with exit 2", "[cpufreq]") {
    Finished r = run({tool_path("cpufreq"), "-n", "java"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("-n needs -P") != std::string::npos);
    r = run({tool_path("cpufreq"), "-f", "0"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--frequency") != std::string::npos);
}

} // namespace test_cpufreq
