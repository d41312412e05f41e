#include "errors.h"
#include "probe_spec.h"

#include <catch2/catch.hpp>
#include "tracepoint_format.h"
#include "text_file.h"
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace test_probe_spec {

using namespace corescope;

namespace {

bool has_label(const std::vector<ProbeTarget>& targets, const std::string& label) {
    for (const ProbeTarget& t : targets)
        if (t.label == label) return true;
    return false;
}

// A directory of the test's own, removed at the end.
struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/corescope-probes-XXXXXX";
        REQUIRE(mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

} // namespace

TEST_CASE("probe specs: kernel, user, tracepoint and USDT forms", "[probe_spec]") {
    ProbeSpec kernel = parse_probe_spec("vfs_*");
    CHECK(kernel.type == ProbeType::kernel);
    CHECK(kernel.pattern == "vfs_*");
    CHECK(parse_probe_spec("p::vfs_read").type == ProbeType::kernel);

    ProbeSpec user = parse_probe_spec("c:malloc");
    CHECK(user.type == ProbeType::user);
    CHECK(user.library == "c");
    CHECK(user.pattern == "malloc");
    ProbeSpec path = parse_probe_spec("p:/usr/bin/bash:readline");
    CHECK(path.type == ProbeType::user);
    CHECK(path.library == "/usr/bin/bash");

    ProbeSpec tp = parse_probe_spec("t:syscalls:sys_enter_*");
    CHECK(tp.type == ProbeType::tracepoint);
    CHECK(tp.pattern == "syscalls:sys_enter_*");

    ProbeSpec usdt = parse_probe_spec("u:/usr/bin/python3:function__entry");
    CHECK(usdt.type == ProbeType::usdt);
    CHECK(usdt.library == "/usr/bin/python3");
    CHECK(usdt.pattern == "function__entry");
    CHECK(parse_probe_spec("u:c:libc:setjmp").pattern == "libc:setjmp");
    CHECK(usdt.text == "u:/usr/bin/python3:function__entry");

    for (const char* bad : {"", "t:sched", "t::x", "u:c", "c:", ":malloc", "a:b:c:d"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_probe_spec(bad), UsageError);
    }
}

TEST_CASE("names match as globs, literally, or as regular expressions", "[probe_spec]") {
    NameMatcher glob("fc_*", false);
    CHECK(glob.matches("fc_alpha"));
    CHECK(!glob.matches("xfc_alpha"));
    CHECK(!glob.literal());
    NameMatcher one("fc_alpha", false);
    CHECK(one.literal());
    CHECK(one.matches("fc_alpha"));
    CHECK(!one.matches("fc_alphabet"));
    NameMatcher regex("^vfs_(read|write)$", true);
    CHECK(regex.matches("vfs_read"));
    CHECK(!regex.matches("vfs_readv"));
    CHECK(NameMatcher("alp", true).matches("fc_alpha")); // searched, not anchored
    CHECK_THROWS_AS(NameMatcher("(", true), UsageError);
}

TEST_CASE("tracepoints and kernel functions are matched from tracefs", "[probe_spec]") {
    TempDir dir;
    for (const char* tp : {"sched/sched_process_exec", "sched/sched_process_exit",
                           "sched/sched_switch", "syscalls/sys_enter_read"})
        std::filesystem::create_directories(dir.path + "/events/" + tp);
    std::ofstream(dir.path + "/events/sched/enable") << "0\n";
    auto found = matching_tracepoints(dir.path, NameMatcher("sched", false),
                                      NameMatcher("sched_process_*", false));
    REQUIRE(found.size() == 2);
    CHECK(found[0].label == "sched:sched_process_exec");
    CHECK(found[0].target == "sched:sched_process_exec");
    CHECK(found[1].label == "sched:sched_process_exit");
    CHECK(matching_tracepoints(dir.path, NameMatcher("*", false), NameMatcher("*", false)).size() ==
          4);

    std::ofstream(dir.path + "/available_filter_functions")
        << "vfs_read\nvfs_write\nvfs_read\nmd_flush_request [md_mod]\n";
    auto functions = matching_kernel_functions(dir.path, NameMatcher("vfs_*", false));
    REQUIRE(functions.size() == 2); // vfs_read once
    CHECK(functions[0].target == "vfs_read");
    CHECK(matching_kernel_functions(dir.path, NameMatcher("md_flush_request", false)).size() == 1);

    ProbeSpec none = parse_probe_spec("t:sched:no_such_*");
    CHECK_THROWS_AS(resolve_probe_spec(none, false, {}, dir.path), RuntimeError);
}

TEST_CASE("user functions: libraries by name or path, functions from ELF symbols", "[probe_spec]") {
    std::string libc = find_user_library("c");
    CHECK(libc.find("libc") != std::string::npos);
    CHECK(find_user_library(libc) == libc);
    // Through a process's root and maps: this process's own.
    std::string mine = find_user_library("c", {static_cast<uint32_t>(getpid())});
    CHECK(mine.rfind("/proc/" + std::to_string(getpid()) + "/root/", 0) == 0);
    CHECK_THROWS_AS(find_user_library("no_such_library_xyz"), RuntimeError);
    CHECK_THROWS_AS(find_user_library("/no/such/file.so"), RuntimeError);

    auto functions = elf_functions(libc);
    bool malloc_found = false;
    for (const ElfFunction& f : functions)
        if (f.name == "malloc") malloc_found = f.offset != 0;
    CHECK(malloc_found);
    auto targets = resolve_probe_spec(parse_probe_spec("c:mallo?"), false, {}, "");
    CHECK(has_label(targets, "malloc"));
    CHECK(targets[0].target.rfind(libc + ":0x", 0) == 0);
    CHECK_THROWS_AS(resolve_probe_spec(parse_probe_spec("c:no_such_function_xyz*"), false, {}, ""),
                    RuntimeError);
    CHECK_THROWS_AS(elf_functions("/etc/passwd"), RuntimeError);
}

TEST_CASE("two-part name filters: the whole name with a colon, either part without",
          "[probe_spec]") {
    PairFilter whole("sched:sched_*");
    CHECK(whole.takes("sched", "sched_switch"));
    CHECK(!whole.takes("block", "sched_switch"));
    PairFilter part("sched_switch");
    CHECK(part.takes("sched", "sched_switch"));
    CHECK(PairFilter("sched").takes("sched", "sched_switch"));
    CHECK(!part.takes("sched", "sched_wakeup"));
    CHECK(PairFilter("").takes("any", "thing"));
}

TEST_CASE("subdirectories, and an event's format and ID read from tracefs", "[probe_spec]") {
    TempDir dir;
    for (const char* tp : {"sched/sched_switch", "block/block_rq_issue", "sched/sched_exec"})
        std::filesystem::create_directories(dir.path + "/events/" + tp);
    std::ofstream(dir.path + "/events/sched/enable") << "0\n";
    CHECK(subdirectories(dir.path + "/events") == std::vector<std::string>{"block", "sched"});
    CHECK(subdirectories(dir.path + "/events/sched") ==
          std::vector<std::string>{"sched_exec", "sched_switch"});
    CHECK(subdirectories(dir.path + "/none").empty());

    std::string base = dir.path + "/events/sched/sched_switch";
    std::ofstream(base + "/id") << "316\n";
    std::ofstream(base + "/format") << "name: sched_switch\nID: 316\nformat:\n"
                                       "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
                                       "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n";
    TracepointFormat format = read_tracepoint_format(dir.path + "/events", "sched", "sched_switch");
    CHECK(format.id == 316);
    REQUIRE(format.fields.size() == 2);
    CHECK(format.fields[1].name == "prev_pid");
    TracepointFormat none = read_tracepoint_format(dir.path + "/events", "sched", "sched_exec");
    CHECK(none.id == 0);
    CHECK(none.fields.empty());
}

} // namespace test_probe_spec
