// Behaviour every tool shares: usage errors, help, dry runs, and nothing left
// attached to the kernel however the tool ends.
#include "harness.h"
#include "map_reader.h"

#include <bpf/bpf.h>
#include <set>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <csignal>
#include <cstdlib>
#include <unistd.h>
#include <sstream>

namespace test_common {

using namespace itest;

TEST_CASE("every tool rejects bad usage with exit 2 and names the bad value", "[common]") {
    for (const std::string& tool : tools_under_test()) {
        INFO(tool);
        Finished unknown = run({tool_path(tool), "--no-such-flag"});
        CHECK(unknown.exit_code == 2);
        CHECK(unknown.err.find("--no-such-flag") != std::string::npos);
        CHECK(unknown.out.empty());

        Finished format = run({tool_path(tool), "-o", "xml"});
        CHECK(format.exit_code == 2);
        CHECK(format.err.find("'xml'") != std::string::npos);

        // -o svg (a flame graph): the stack tools only; the others name it.
        static const std::set<std::string> svg_tools = {
            "profile",   "offcputime", "wakeuptime", "offwaketime", "stackcount",
            "biostacks", "klockstat",  "memleak",    "futexctn",    "tcpdrop"};
        bool draws = svg_tools.count(tool) != 0;
        Finished svg = run({tool_path(tool), "-o", "svg", "--help"});
        CHECK(svg.exit_code == (draws ? 0 : 2));
        if (!draws) CHECK(svg.err.find("'svg'") != std::string::npos);

        Finished help = run({tool_path(tool), "--help"});
        CHECK(help.exit_code == 0);
        CHECK(help.out.find("Usage: " + tool) != std::string::npos);

        Finished version = run({tool_path(tool), "--version"});
        CHECK(version.exit_code == 0);
        CHECK(version.out.find("corescope") != std::string::npos);
    }
}

TEST_CASE("tools that take a PID reject bad PIDs with exit 2", "[common]") {
    for (const std::string& tool : {std::string("opensnoop"), std::string("execsnoop")}) {
        INFO(tool);
        for (const char* bad : {"abc", "-5", "0", "99999999999"}) {
            Finished r = run({tool_path(tool), "-p", bad});
            CHECK(r.exit_code == 2);
            CHECK(r.err.find(std::string("'") + bad + "'") != std::string::npos);
        }
    }
}

TEST_CASE("--dry-run loads and verifies, prints the plan, and leaves nothing behind", "[common]") {
    REQUIRE_BPF();
    for (const std::string& tool : tools_that_run_here()) {
        INFO(tool);
        std::set<unsigned> before = bpf_program_ids();
        Finished r = run({tool_path(tool), "--dry-run"});
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("attach plan") != std::string::npos);
        std::set<unsigned> after = bpf_program_ids();
        std::set<unsigned> added;
        for (unsigned id : after)
            if (!before.count(id)) added.insert(id);
        // Another BPF user on the machine may have loaded programs meanwhile:
        // only those no live process holds can be this tool's leftovers. The
        // feature probes attach and detach programs through links, which the
        // kernel frees after an RCU grace period, possibly after the tool
        // exited: a leftover is one that is still there after that wait.
        std::set<unsigned> left = programs_still_loaded(bpf_programs_unowned(added));
        CHECK(bpf_program_names(bpf_programs_unowned(left)).empty());
    }
}

TEST_CASE("CORESCOPE_SKIP_ATTACH moves a plan to its next tier, and rejects unknown kinds",
          "[common]") {
    REQUIRE_BPF();
    Finished lower = run({tool_path("execsnoop"), "--dry-run"}, 20,
                         [] { setenv("CORESCOPE_SKIP_ATTACH", "tracepoint", 1); });
    CHECK(lower.exit_code == 0);
    CHECK(lower.out.find("exec system calls: raw_tp:sys_enter raw_tp:sys_exit") !=
          std::string::npos);
    CHECK(lower.out.find("passed over tracepoint: skipped by CORESCOPE_SKIP_ATTACH") !=
          std::string::npos);
    Finished none = run({tool_path("execsnoop"), "--dry-run"}, 20,
                        [] { setenv("CORESCOPE_SKIP_ATTACH", "tracepoint,raw_tp", 1); });
    CHECK(none.exit_code == 1);
    CHECK(lines(none.err).size() == 1);
    CHECK(none.err.find("no way to trace exec system calls") != std::string::npos);
    Finished bad = run({tool_path("execsnoop"), "--dry-run"}, 20,
                       [] { setenv("CORESCOPE_SKIP_ATTACH", "kprobes", 1); });
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("unknown attach kind 'kprobes'") != std::string::npos);
}

TEST_CASE("no BPF program outlives a tool, whatever signal ends it", "[common]") {
    REQUIRE_BPF();
    for (int sig : {SIGINT, SIGTERM, SIGKILL}) {
        // A group side by side: their programs go in one grace period.
        for (const std::vector<std::string>& group : in_groups(tools_that_run_here())) {
            std::vector<std::unique_ptr<ToolProcess>> tools;
            for (const std::string& tool : group)
                tools.push_back(std::make_unique<ToolProcess>(tool_command(tool)));
            // Other processes may load and unload programs meanwhile: follow
            // only the ones each tool holds.
            std::vector<std::set<unsigned>> held;
            for (size_t i = 0; i < group.size(); i++) {
                INFO(group[i] << " ended by signal " << sig);
                REQUIRE(tools[i]->wait_attached(60));
                held.push_back(bpf_programs_held_by(tools[i]->pid()));
                CHECK(!held.back().empty());
            }
            for (size_t i = 0; i < group.size(); i++) {
                INFO(group[i] << " ended by signal " << sig);
                Finished r = tools[i]->stop(sig);
                if (sig != SIGKILL) CHECK(r.exit_code == 0);
            }
            // The kernel frees programs after the last reference goes, tp_btf
            // and raw_tp ones a little later (after an RCU grace period).
            for (size_t i = 0; i < group.size(); i++) {
                INFO(group[i] << " ended by signal " << sig);
                CHECK(programs_still_loaded(held[i]).empty());
            }
        }
    }
}

TEST_CASE("a tool run without privileges says so in one line and exits 1", "[common]") {
    REQUIRE_BPF();
    for (const std::string& tool : tools_under_test()) {
        INFO(tool);
        Finished r = run({tool_path(tool)}, 20, [] {
            if (setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
        });
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("not running as root") != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK(r.out.empty());
    }
}

TEST_CASE("a BTF file given by option that does not exist is a usage error", "[common]") {
    for (const std::string& tool : tools_under_test()) {
        INFO(tool);
        Finished r = run({tool_path(tool), "--btf", "/nonexistent/vmlinux.btf"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("/nonexistent/vmlinux.btf") != std::string::npos);
    }
}

TEST_CASE("a BTF file given by option that is not BTF is a usage error naming it", "[common]") {
    REQUIRE_BPF();
    for (const std::string& tool : tools_under_test()) {
        INFO(tool);
        Finished r = run({tool_path(tool), "--btf", "/etc/passwd", "--dry-run"});
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("invalid BTF file '/etc/passwd': not a BTF file") != std::string::npos);
        CHECK(r.out.empty());
    }
}

TEST_CASE("a tool whose reader goes away ends promptly and quietly", "[common]") {
    REQUIRE_BPF();
    for (const std::vector<std::string>& argv :
         {std::vector<std::string>{tool_path("opensnoop")},
          {tool_path("execsnoop")},
          // A summary tool: runqlat has samples every second on any host
          // (biolatency prints nothing for a second without disk I/O).
          {tool_path("runqlat"), "1"}}) {
        INFO(argv[0]);
        std::string command =
            argv[0] + (argv.size() > 1 ? " " + argv[1] : "") +
            " 2>/tmp/corescope-itest-head.err | head -1; echo status=${PIPESTATUS[0]}";
        auto start = std::chrono::steady_clock::now();
        Finished r = run({"/bin/bash", "-c", command}, 20);
        double took =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CHECK(took < 5);
        CHECK(r.out.find("status=0") != std::string::npos);
        std::ifstream err("/tmp/corescope-itest-head.err");
        std::string err_text((std::istreambuf_iterator<char>(err)),
                             std::istreambuf_iterator<char>());
        CHECK(err_text.empty());
    }
    unlink("/tmp/corescope-itest-head.err");
}

TEST_CASE("output to a full disk ends with one message and exit 1", "[common]") {
    REQUIRE_BPF();
    for (const std::string& tool : {std::string("opensnoop"), std::string("execsnoop")}) {
        INFO(tool);
        Finished r = run({"/bin/sh", "-c", tool_path(tool) + " -d 5 > /dev/full"}, 20);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("No space left on device") != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
}

TEST_CASE("a PID filter for a process that does not exist runs and reports nothing", "[common]") {
    REQUIRE_BPF();
    Finished r = run({tool_path("opensnoop"), "-p", "4194000", "-d", "1"});
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out).size() == 1); // the header only
}

// common/map_reader.h against real maps: every entry, in batches and key by
// key (the path of kernels before 5.6), taken maps left empty, per-CPU
// values summed, limits kept.
TEST_CASE("map reader: whole maps, in batches and key by key", "[common][map_reader]") {
    REQUIRE_BPF();
    auto make = [](bpf_map_type type, uint32_t value_size, uint32_t entries) {
        int fd = bpf_map_create(type, "itest_reader", 4, value_size, entries, nullptr);
        REQUIRE(fd >= 0);
        return fd;
    };
    for (const char* batches : {"1", "0"}) {
        INFO("batches " << batches);
        setenv("CORESCOPE_NO_MAP_BATCH", std::string(batches) == "1" ? "0" : "1", 1);
        int hash = make(BPF_MAP_TYPE_HASH, 8, 1000);
        for (uint32_t k = 0; k < 700; k++) {
            uint64_t v = k * 3;
            REQUIRE(bpf_map_update_elem(hash, &k, &v, BPF_ANY) == 0);
        }
        auto all = corescope::read_map<uint32_t, uint64_t>(corescope::MapHandle(hash));
        REQUIRE(all.size() == 700);
        std::set<uint32_t> keys;
        for (const auto& e : all) {
            CHECK(e.value == e.key * 3);
            keys.insert(e.key);
        }
        CHECK(keys.size() == 700);
        // Never more than the limit. In batches a hash map hands over whole
        // buckets, so the read may stop a bucket (a few entries) short of it.
        size_t limited =
            corescope::read_map<uint32_t, uint64_t>(corescope::MapHandle(hash), 100).size();
        CHECK(limited <= 100);
        CHECK(limited >= (std::string(batches) == "1" ? 90 : 100));
        CHECK(corescope::take_map<uint32_t, uint64_t>(corescope::MapHandle(hash)).size() == 700);
        uint32_t next;
        CHECK(bpf_map_get_next_key(hash, nullptr, &next) != 0); // empty after take
        close(hash);

        int percpu = make(BPF_MAP_TYPE_PERCPU_ARRAY, 8, 4);
        int cpus = libbpf_num_possible_cpus();
        std::vector<uint64_t> values(static_cast<size_t>(cpus), 5);
        uint32_t two = 2;
        REQUIRE(bpf_map_update_elem(percpu, &two, values.data(), BPF_ANY) == 0);
        auto summed = corescope::read_percpu_map<uint32_t, uint64_t>(
            corescope::MapHandle(percpu), [](uint64_t& sum, uint64_t one) { sum += one; });
        REQUIRE(summed.size() == 4);
        CHECK(summed[2].value == 5u * static_cast<uint64_t>(cpus));
        CHECK(summed[0].value == 0);
        close(percpu);
    }
    unsetenv("CORESCOPE_NO_MAP_BATCH");
}

} // namespace test_common
