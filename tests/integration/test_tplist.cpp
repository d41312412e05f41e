// tplist: the kernel's tracepoints (sched:sched_switch's known fields, a
// filter's both sides) and the USDT probe of the func workload
// (func_workload.h: funcwork:tick, one site, one int argument), by file and
// by process; what it cannot read, in one line each.
#include "func_workload.h"
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <regex>
#include <nlohmann/json.hpp>

namespace test_tplist {

using namespace itest;
using nlohmann::json;

TEST_CASE("tplist lists tracepoints with their fields, and filters by glob", "[tplist]") {
    REQUIRE_BPF(); // root: tracefs is readable by root only
    Finished v = run({tool_path("tplist"), "-v", "sched:sched_switch"});
    CHECK(v.exit_code == 0);
    INFO(v.out);
    std::vector<std::string> out = lines(v.out);
    REQUIRE(!out.empty());
    CHECK(out[0] == "sched:sched_switch");
    CHECK(std::find(out.begin(), out.end(), "    pid_t prev_pid;") != out.end());
    CHECK(std::find(out.begin(), out.end(), "    pid_t next_pid;") != out.end());
    CHECK(std::find(out.begin(), out.end(), "    char prev_comm[16];") != out.end());
    for (const std::string& line : out)
        CHECK(line.find("common_") == std::string::npos);

    Finished j = run({tool_path("tplist"), "-o", "json", "--btf", "/sys/kernel/btf/vmlinux",
                      "sched:sched_switch"});
    CHECK(j.exit_code == 0);
    INFO(j.out);
    std::vector<json> records = json_lines(j.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("type") == "tracepoint");
    CHECK(records[0].at("probe") == "sched:sched_switch");
    CHECK(records[0].at("category") == "sched");
    CHECK(records[0].at("id").get<uint64_t>() > 0);
    bool prev_pid = false;
    for (const json& f : records[0].at("fields"))
        if (f.at("name") == "prev_pid") {
            prev_pid = true;
            CHECK(f.at("type") == "pid_t");
            CHECK(f.at("size") == 4);
            CHECK(f.at("signed") == true);
        } else if (f.at("name") == "prev_comm") {
            CHECK(f.at("type") == "char[16]");
            CHECK(f.at("size") == 16);
        }
    CHECK(prev_pid);

    // A __data_loc field: "[]" belongs to its type, its name is the last word.
    Finished exec = run({tool_path("tplist"), "-o", "json", "sched:sched_process_exec"});
    REQUIRE(exec.exit_code == 0);
    std::vector<json> exec_records = json_lines(exec.out);
    REQUIRE(exec_records.size() == 1);
    bool filename = false;
    for (const json& f : exec_records[0].at("fields"))
        if (f.at("name") == "filename") {
            filename = true;
            CHECK(f.at("type") == "__data_loc char[]");
        }
    CHECK(filename);

    // A glob with a colon: the whole name; without: either part.
    Finished process = run({tool_path("tplist"), "sched:sched_process_*"});
    CHECK(process.exit_code == 0);
    std::vector<std::string> names = lines(process.out);
    CHECK(std::find(names.begin(), names.end(), "sched:sched_process_exec") != names.end());
    CHECK(std::find(names.begin(), names.end(), "sched:sched_process_exit") != names.end());
    CHECK(std::find(names.begin(), names.end(), "sched:sched_switch") == names.end());
    for (const std::string& name : names)
        CHECK(name.rfind("sched:sched_process_", 0) == 0);
    Finished event = run({tool_path("tplist"), "sched_switch"});
    CHECK(lines(event.out) == std::vector<std::string>{"sched:sched_switch"});

    Finished none = run({tool_path("tplist"), "zz_none:*"});
    CHECK(none.exit_code == 1);
    CHECK(none.err == "tplist: no tracepoint matches 'zz_none:*'\n");
    CHECK(none.out.empty());
    Finished btf = run({tool_path("tplist"), "--btf", "/etc/passwd"});
    CHECK(btf.exit_code == 2);
    CHECK(btf.err.find("invalid BTF file '/etc/passwd': not a BTF file") != std::string::npos);
}

TEST_CASE("tplist lists the USDT probes of a program and of a process, with their arguments; "
          "what it cannot read in one line",
          "[tplist]") {
    std::string program = func_workload_path();
    Finished t = run({tool_path("tplist"), "-l", program});
    CHECK(t.exit_code == 0);
    INFO(t.out);
    // DTRACE_PROBE1(funcwork, tick, i): one site, a signed 4-byte argument.
    CHECK(std::regex_match(t.out,
                           std::regex(std::regex_replace(program, std::regex(R"([.+])"), R"(\$&)") +
                                      R"( funcwork:tick -4@\S+\n)")));

    Finished v = run({tool_path("tplist"), "-v", "-l", program, "funcwork:*"});
    CHECK(v.exit_code == 0);
    INFO(v.out);
    std::vector<std::string> out = lines(v.out);
    REQUIRE(out.size() == 3);
    CHECK(std::regex_match(out[1], std::regex(R"(    site 0x[0-9a-f]+, semaphore none)")));
    CHECK(std::regex_match(out[2], std::regex(R"(        arg1: signed 32-bit, \S+)")));

    Finished j = run({tool_path("tplist"), "-o", "json", "-l", program});
    CHECK(j.exit_code == 0);
    INFO(j.out);
    std::vector<json> records = json_lines(j.out);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at("type") == "usdt");
    CHECK(records[0].at("path") == program);
    CHECK(records[0].at("probe") == "funcwork:tick");
    REQUIRE(records[0].at("sites").size() == 1);
    const json& site = records[0].at("sites")[0];
    CHECK(site.at("address").get<uint64_t>() > 0);
    CHECK(site.at("semaphore") == 0);
    REQUIRE(site.at("arguments").size() == 1);
    CHECK(site.at("arguments")[0].at("size") == 4);
    CHECK(site.at("arguments")[0].at("signed") == true);

    // -p: every file the process maps; its program's probe under the path
    // it maps it by; a filter takes it alone.
    {
        FuncWorkload running(0, 0, 0, 0);
        Finished p = run({tool_path("tplist"), "-p", running.pid_text()});
        CHECK(p.exit_code == 0);
        INFO(p.out);
        std::vector<std::string> probes = lines(p.out);
        CHECK(std::find_if(probes.begin(), probes.end(), [&](const std::string& line) {
                  return line.rfind(program + " funcwork:tick ", 0) == 0;
              }) != probes.end());
        Finished f = run({tool_path("tplist"), "-p", running.pid_text(), "funcwork:*"});
        CHECK(f.exit_code == 0);
        CHECK(lines(f.out).size() == 1);
        CHECK(running.go() == 0);
    }

    Finished missing = run({tool_path("tplist"), "-l", "/nonexistent/prog"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err == "tplist: no library or executable /nonexistent/prog\n");
    CHECK(missing.out.empty());
    Finished not_elf = run({tool_path("tplist"), "-l", "/etc/passwd"});
    CHECK(not_elf.exit_code == 1);
    CHECK(not_elf.err == "tplist: /etc/passwd is not an ELF file\n");
    Finished no_probes = run({tool_path("tplist"), "-l", func_library_path()});
    CHECK(no_probes.exit_code == 1);
    CHECK(no_probes.err == "tplist: " + func_library_path() + " has no USDT probes\n");
    Finished gone = run({tool_path("tplist"), "-p", "4194000"});
    CHECK(gone.exit_code == 1);
    CHECK(gone.err == "tplist: no process 4194000\n");
}

} // namespace test_tplist
