// syscount against system calls this test makes a known number of times.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace test_syscount {

using namespace itest;
using nlohmann::json;

namespace {

// The entry for a system call (or a PID with -P) in one JSON summary; null if absent.
json entry(const json& summary, const std::string& key, const json& value) {
    for (const json& e : summary.at("entries"))
        if (e.at(key) == value) return e;
    return nullptr;
}

// The COUNT column of the text line for a system call; -1 if absent.
long text_count(const std::string& out, const std::string& name) {
    for (const std::string& line : lines(out)) {
        std::istringstream in(line);
        std::string first;
        long count = -1;
        if (in >> first >> count && first == name) return count;
    }
    return -1;
}

void call_getppid(int n) {
    for (int i = 0; i < n; i++)
        syscall(SYS_getppid); // glibc's getppid() does not cache, but be sure
}

void open_missing(const std::string& path, int n) {
    for (int i = 0; i < n; i++) {
        int fd = open(path.c_str(), O_RDONLY);
        if (fd >= 0) close(fd);
    }
}

std::string self() {
    return std::to_string(getpid());
}

} // namespace

TEST_CASE("syscount counts each call the test makes, by name", "[syscount]") {
    REQUIRE_BPF();
    const int n = 5000;
    ToolProcess text({tool_path("syscount"), "-p", self(), "--top", "0"});
    ToolProcess jsonl({tool_path("syscount"), "-p", self(), "-o", "json"});
    REQUIRE(text.wait_attached());
    REQUIRE(jsonl.wait_attached());
    call_getppid(n);
    Finished t = text.stop();
    Finished j = jsonl.stop();
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    CHECK(lines(t.out)[0].rfind("SYSCALL", 0) == 0);
    // -p limits the count to this process, so it is exact.
    CHECK(text_count(t.out, "getppid") == n);
    auto summaries = json_lines(j.out);
    REQUIRE(summaries.size() == 1);
    json e = entry(summaries[0], "syscall", "getppid");
    REQUIRE(e.is_object());
    CHECK(e.at("count") == n);
    CHECK(e.at("nr") == SYS_getppid);
    CHECK(summaries[0].at("by") == "syscall");
    CHECK(summaries[0].at("total").get<long>() >= n);
}

TEST_CASE("syscount -x and -e count only failed calls", "[syscount]") {
    REQUIRE_BPF();
    const int n = 300;
    std::string missing = "/nonexistent/" + unique_token("syscount");
    ToolProcess failed({tool_path("syscount"), "-x", "-p", self(), "-o", "json", "--top", "0"});
    ToolProcess enoent({tool_path("syscount"), "-e", "ENOENT", "-p", self(), "-o", "json"});
    ToolProcess eacces({tool_path("syscount"), "-e", "13", "-p", self(), "-o", "json"});
    REQUIRE(failed.wait_attached());
    REQUIRE(enoent.wait_attached());
    REQUIRE(eacces.wait_attached());
    call_getppid(n); // never fails
    open_missing(missing, n);
    Finished f = failed.stop();
    Finished e = enoent.stop();
    Finished a = eacces.stop();
    auto fs = json_lines(f.out);
    auto es = json_lines(e.out);
    auto as = json_lines(a.out);
    REQUIRE(fs.size() == 1);
    REQUIRE(es.size() == 1);
    REQUIRE(as.size() == 1);
    CHECK(entry(fs[0], "syscall", "getppid").is_null());
    REQUIRE(entry(fs[0], "syscall", "openat").is_object());
    CHECK(entry(fs[0], "syscall", "openat").at("count") == n);
    REQUIRE(entry(es[0], "syscall", "openat").is_object());
    CHECK(entry(es[0], "syscall", "openat").at("count") == n);
    CHECK(es[0].at("errno") == "ENOENT");
    CHECK(entry(as[0], "syscall", "openat").is_null());
}

TEST_CASE("syscount -P counts by process and names it", "[syscount]") {
    REQUIRE_BPF();
    const int n = 20000;
    std::string comm = "scount-" + std::to_string(getpid() % 100000);
    ToolProcess p({tool_path("syscount"), "-P", "-o", "json", "--top", "0"});
    ToolProcess text({tool_path("syscount"), "-P"});
    REQUIRE(p.wait_attached());
    REQUIRE(text.wait_attached());
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_NAME, comm.c_str());
        call_getppid(n);
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    Finished r = p.stop();
    Finished t = text.stop();
    auto summaries = json_lines(r.out);
    REQUIRE(summaries.size() == 1);
    CHECK(summaries[0].at("by") == "process");
    json e = entry(summaries[0], "pid", child);
    REQUIRE(e.is_object());
    CHECK(e.at("count").get<long>() >= n);
    CHECK(e.at("comm") == comm);
    bool found = false;
    for (const std::string& line : lines(t.out)) {
        std::istringstream in(line);
        std::string pid, name;
        long count = 0;
        if (in >> pid >> name >> count && pid == std::to_string(child)) {
            found = true;
            CHECK(name == comm);
            CHECK(count >= n);
        }
    }
    CHECK(found); // the busiest process is in the default top 10
}

TEST_CASE("syscount -L measures the time spent in calls", "[syscount]") {
    REQUIRE_BPF();
    // A child that waits for the tools, then sleeps 20 times 10 ms: with -p
    // on it, the counts are exact.
    int go[2];
    REQUIRE(pipe(go) == 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(1);
        struct timespec ten_ms = {0, 10 * 1000 * 1000};
        for (int i = 0; i < 20; i++)
            syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ten_ms, nullptr);
        _exit(0);
    }
    close(go[0]);
    std::string pid = std::to_string(child);
    ToolProcess us({tool_path("syscount"), "-L", "-p", pid, "-o", "json"});
    ToolProcess ms({tool_path("syscount"), "-L", "-m", "-p", pid});
    REQUIRE(us.wait_attached());
    REQUIRE(ms.wait_attached());
    REQUIRE(write(go[1], "x", 1) == 1);
    close(go[1]);
    waitpid(child, nullptr, 0);
    Finished r = us.stop();
    Finished m = ms.stop();
    auto summaries = json_lines(r.out);
    REQUIRE(summaries.size() == 1);
    json e = entry(summaries[0], "syscall", "clock_nanosleep");
    REQUIRE(e.is_object());
    CHECK(e.at("count") == 20);
    CHECK(e.at("avg_ns").get<uint64_t>() >= 10000000);
    CHECK(e.at("avg_ns").get<uint64_t>() < 1000000000);
    CHECK(e.at("total_ns").get<uint64_t>() >= 200000000);
    // The read() that waited for the tools started before they attached:
    // a call is timed only from an entry that was seen.
    CHECK(entry(summaries[0], "syscall", "read").is_null());
    CHECK(lines(m.out)[0].find("TOTAL(ms)") != std::string::npos);
    bool found = false;
    for (const std::string& line : lines(m.out)) {
        std::istringstream in(line);
        std::string name;
        long count = 0;
        double total = 0, avg = 0;
        if (in >> name >> count >> total >> avg && name == "clock_nanosleep") {
            found = true;
            CHECK(count == 20);
            CHECK(total >= 200.0);
            CHECK(avg >= 10.0);
            CHECK(avg < 1000.0);
        }
    }
    CHECK(found);
}

TEST_CASE("syscount interval and count print that many summaries and exit 0", "[syscount]") {
    REQUIRE_BPF();
    ToolProcess text({tool_path("syscount"), "-T", "1", "2"});
    ToolProcess jsonl({tool_path("syscount"), "-o", "json", "1", "2"});
    Finished t = text.wait(10);
    Finished j = jsonl.wait(10);
    CHECK(t.exit_code == 0);
    CHECK(j.exit_code == 0);
    int headers = 0, stamps = 0;
    for (const std::string& line : lines(t.out)) {
        if (line.rfind("SYSCALL", 0) == 0) headers++;
        if (line.size() == 10 && line[0] == '[' && line[3] == ':' && line[9] == ']') stamps++;
    }
    CHECK(headers == 2);
    CHECK(stamps == 2);
    auto summaries = json_lines(j.out);
    REQUIRE(summaries.size() == 2);
    for (const json& s : summaries) {
        CHECK(s.at("interval_s").get<double>() > 0.9);
        CHECK(s.at("interval_s").get<double>() < 1.5);
        CHECK(s.at("total").get<long>() > 0); // the other syscount at least
    }
}

TEST_CASE("syscount rejects a bad errno and a bad --top with exit 2", "[syscount]") {
    Finished e = run({tool_path("syscount"), "-e", "ENOSUCH"});
    CHECK(e.exit_code == 2);
    CHECK(e.err.find("'ENOSUCH'") != std::string::npos);
    Finished t = run({tool_path("syscount"), "--top", "ten"});
    CHECK(t.exit_code == 2);
    CHECK(t.err.find("'ten'") != std::string::npos);
    Finished l = run({tool_path("syscount"), "-l"});
    CHECK(l.exit_code == 0);
    CHECK(l.out.find(std::to_string(SYS_getppid) + " getppid\n") != std::string::npos);
}

} // namespace test_syscount
