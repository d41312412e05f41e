// memleak against memleak_workload.c: known blocks leaked from known
// functions (leak_a 7 x 4096 malloc, leak_b 3 x 65536 calloc, leak_aligned
// 8192 aligned_alloc, leak_grown realloc'd to 20000, leak_old 2 x 1024) and
// 50 blocks freed (churn); a second workload is the other side of -p.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace test_memleak {

using namespace itest;
using nlohmann::json;

namespace {

std::string workload_path() {
    return tool_path("tests/integration/memleak_workload");
}

// The workload, started now: it prints "ready" and waits; go() lets it make
// its allocations and returns once it printed "done" (it then waits for
// stdin to close, so its memory stays as it was).
class Workload {
  public:
    explicit Workload(const char* mode = "wait") {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
        std::string path = workload_path();
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], STDIN_FILENO);
            dup2(out[1], STDOUT_FILENO);
            close(in[1]);
            close(out[0]);
            execl(path.c_str(), path.c_str(), mode, static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        in_ = in[1];
        out_ = out[0];
        if (read_until("ready\n").find("ready\n") == std::string::npos)
            throw std::runtime_error("workload not ready");
    }
    ~Workload() {
        if (in_ >= 0) close(in_);
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(out_);
    }
    Workload(const Workload&) = delete;
    Workload& operator=(const Workload&) = delete;

    pid_t pid() const { return pid_; }
    std::string pid_text() const { return std::to_string(pid_); }
    bool go() {
        if (write(in_, "go\n", 3) != 3) return false;
        return read_until("done\n").find("done\n") != std::string::npos;
    }

  private:
    std::string read_until(const std::string& needle) {
        std::string got;
        char c;
        while (got.find(needle) == std::string::npos && read(out_, &c, 1) == 1)
            got += c;
        return got;
    }
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
};

// The innermost frame's function of a stack record.
std::string leaker(const json& r) {
    const json& stack = r.at("user_stack");
    if (stack.empty() || stack[0].at("symbol").is_null()) return "";
    return stack[0].at("symbol").get<std::string>();
}

struct Sum {
    uint64_t bytes = 0, allocations = 0;
};

// Bytes and allocations per leaking function (stack records only).
std::map<std::string, Sum> by_leaker(const std::vector<json>& records) {
    std::map<std::string, Sum> sums;
    for (const json& r : records) {
        if (r.at("type") != "stack") continue;
        Sum& s = sums[leaker(r)];
        s.bytes += r.at("bytes").get<uint64_t>();
        s.allocations += r.at("allocations").get<uint64_t>();
    }
    return sums;
}

bool any_frame_named(const std::vector<json>& records, const std::string& name) {
    for (const json& r : records)
        if (r.at("type") == "stack")
            for (const json& f : r.at("user_stack"))
                if (f.at("symbol") == name) return true;
    return false;
}

} // namespace

TEST_CASE("memleak -p sums a process's outstanding allocations by stack, in text and JSON",
          "[memleak]") {
    REQUIRE_BPF();
    Workload mine, other;
    std::string tool = tool_path("memleak");
    ToolProcess text({tool, "-a", "-v", "-p", mine.pid_text()});
    ToolProcess js({tool, "-o", "json", "-a", "--top", "50", "-p", mine.pid_text()});
    // -z/-Z keep leak_a's 4096 and leak_aligned's 8192; --top 1 the larger;
    // -O names the C library itself.
    ToolProcess sized({tool, "-o", "json", "-z", "4096", "-Z", "8192", "--top", "1", "-O", "c",
                       "-p", mine.pid_text()});
    // One allocation in a billion: none of the workload's.
    ToolProcess sampled({tool, "-o", "json", "-s", "1000000000", "-p", mine.pid_text()});
    for (ToolProcess* p : {&text, &js, &sized, &sampled})
        REQUIRE(p->wait_attached());
    REQUIRE(mine.go());
    REQUIRE(other.go());

    Finished j = js.stop();
    CHECK(j.exit_code == 0);
    INFO(j.out);
    std::vector<json> records = json_lines(j.out);
    std::map<std::string, Sum> sums = by_leaker(records);
    CHECK(sums["leak_a"].bytes == 7 * 4096);
    CHECK(sums["leak_a"].allocations == 7);
    CHECK(sums["leak_b"].bytes == 3 * 65536);
    CHECK(sums["leak_b"].allocations == 3);
    CHECK(sums["leak_aligned"].bytes == 8192);
    CHECK(sums["leak_aligned"].allocations == 1);
    CHECK(sums["leak_grown"].bytes == 20000); // the 100 bytes it grew from are gone
    CHECK(sums["leak_grown"].allocations == 1);
    CHECK(sums["leak_old"].bytes == 2 * 1024);
    CHECK_FALSE(any_frame_named(records, "churn")); // all freed
    for (const json& r : records) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("pid") == mine.pid()); // never the other workload's
        CHECK(r.at("comm") == "memleak_workloa");
        if (leaker(r) == "leak_a") {
            REQUIRE(r.at("outstanding").size() == 7);
            for (const json& a : r.at("outstanding")) {
                CHECK(a.at("size") == 4096);
                CHECK(a.at("kind") == "malloc");
                CHECK(a.at("address").get<uint64_t>() != 0);
            }
            bool has_main = false;
            for (const json& f : r.at("user_stack"))
                if (f.at("symbol") == "main") has_main = true;
            CHECK(has_main);
        }
    }

    Finished t = text.stop();
    CHECK(t.exit_code == 0);
    INFO(t.out);
    CHECK(lines_containing(t.out, "Top 10 stacks with outstanding allocations:").size() == 1);
    std::string leak_a_line = "28672 bytes in 7 allocations from stack (pid " + mine.pid_text();
    std::vector<std::string> all = lines(t.out);
    bool found = false;
    for (size_t i = 0; i + 1 < all.size(); i++)
        if (all[i].find(leak_a_line) != std::string::npos)
            found = found || all[i + 1].find("leak_a") != std::string::npos;
    CHECK(found);
    CHECK(lines_containing(t.out, "size = 4096 ").size() == 7);
    CHECK(lines_containing(t.out, "size = 65536 ").size() == 3);
    CHECK(lines_containing(t.out, "churn").empty());
    CHECK(lines_containing(t.out, "pid " + other.pid_text()).empty());
    CHECK(t.err.find("attach plan") != std::string::npos); // -v

    Finished s = sized.stop();
    INFO(s.out);
    std::map<std::string, Sum> sized_sums = by_leaker(json_lines(s.out));
    CHECK(sized_sums.size() == 1);
    CHECK(sized_sums["leak_a"].bytes == 7 * 4096);

    Finished few = sampled.stop();
    INFO(few.out);
    std::map<std::string, Sum> sampled_sums = by_leaker(json_lines(few.out));
    CHECK(sampled_sums.count("leak_a") == 0);
    CHECK(sampled_sums.count("leak_b") == 0);
}

TEST_CASE("memleak --older hides young allocations; --command traces a command to its end",
          "[memleak]") {
    REQUIRE_BPF();
    Workload aged("aged"); // leak_old, 1.2 s, then the others
    std::string tool = tool_path("memleak");
    ToolProcess older({tool, "-o", "json", "--older", "1000", "-p", aged.pid_text()});
    ToolProcess command({tool, "-o", "json", "-d", "30", "--command", workload_path() + " now"});
    REQUIRE(older.wait_attached());
    REQUIRE(command.wait_attached());
    REQUIRE(aged.go());

    Finished o = older.stop();
    INFO(o.out);
    std::map<std::string, Sum> sums = by_leaker(json_lines(o.out));
    CHECK(sums["leak_old"].bytes == 2 * 1024); // 1.2 s old
    CHECK(sums.count("leak_a") == 0);          // made just now
    CHECK(sums.count("leak_b") == 0);

    // The command exits after its allocations: the tool ends with it (not
    // at -d) and prints what it left.
    Finished c = command.wait(25);
    CHECK(c.exit_code == 0);
    INFO(c.out << c.err);
    std::vector<json> records = json_lines(c.out);
    std::map<std::string, Sum> left = by_leaker(records);
    CHECK(left["leak_a"].bytes == 7 * 4096);
    CHECK(left["leak_b"].allocations == 3);
    CHECK_FALSE(any_frame_named(records, "churn"));
}

TEST_CASE("memleak --kernel: kernel allocations with sane sizes and named kernel stacks",
          "[memleak]") {
    REQUIRE_BPF();
    std::string tool = tool_path("memleak");
    // The default without a process; one interval, then it exits.
    ToolProcess js({tool, "-o", "json", "-a", "--top", "20", "1", "1"});
    ToolProcess text({tool, "--kernel", "--percpu", "--stack-storage-size", "65536", "-d", "1.5"});
    // This process's own: 64 files opened and kept open, each a struct file
    // from the filp cache, allocated in alloc_empty_file.
    ToolProcess mine({tool, "--kernel", "-o", "json", "-a", "--top", "1000", "-p", self_pid()});
    REQUIRE(js.wait_attached());
    REQUIRE(text.wait_attached());
    REQUIRE(mine.wait_attached());
    std::vector<int> fds;
    for (int i = 0; i < 64; i++)
        fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
    Finished m = mine.stop();
    for (int fd : fds)
        close(fd);
    {
        INFO(m.out);
        uint64_t files = 0;
        for (const json& r : json_lines(m.out)) {
            if (r.at("type") != "stack") continue;
            // The struct file itself, not what init_file allocates beside
            // it (the security module's blob, from alloc_empty_file too).
            bool opened = false, beside = false;
            for (const json& f : r.at("kernel_stack")) {
                if (f.at("symbol") == "alloc_empty_file") opened = true;
                if (f.at("symbol") == "init_file" || f.at("symbol") == "security_file_alloc")
                    beside = true;
            }
            if (!opened || beside) continue;
            for (const json& a : r.at("outstanding")) {
                // A new slab for the file cache comes under the same stack
                // (its pages, kmalloc'd metadata): only the cache's objects
                // are files. A tool that named kinds wrongly finds too few.
                if (a.at("kind") != "kmem_cache") continue;
                files++;
                CHECK(a.at("size").get<uint64_t>() >= 64); // a struct file is larger
            }
        }
        CHECK(files >= 64);
    }
    Finished j = js.wait(20);
    CHECK(j.exit_code == 0);
    INFO(j.out);
    std::vector<json> records = json_lines(j.out);
    size_t stacks = 0, named = 0;
    for (const json& r : records) {
        if (r.at("type") != "stack") continue;
        stacks++;
        CHECK_FALSE(r.contains("pid"));
        uint64_t bytes = r.at("bytes").get<uint64_t>();
        uint64_t count = r.at("allocations").get<uint64_t>();
        CHECK(count >= 1);
        CHECK(bytes >= count);              // at least a byte each
        CHECK(bytes <= count * (4u << 20)); // at most 4 MiB each
        CHECK(r.at("outstanding").size() == count);
        CHECK(r.at("user_stack").empty());
        for (const json& f : r.at("kernel_stack"))
            if (!f.at("symbol").is_null()) {
                named++;
                break;
            }
    }
    CHECK(stacks >= 1);
    CHECK(named >= 1);

    Finished t = text.wait(20);
    CHECK(t.exit_code == 0);
    INFO(t.out);
    CHECK(lines_containing(t.out, "Top 10 stacks with outstanding kernel allocations:").size() ==
          1);
    CHECK(lines_containing(t.out, "allocations from stack").size() >= 1);
}

TEST_CASE("memleak refuses what it cannot trace, in one line", "[memleak]") {
    REQUIRE_BPF();
    std::string tool = tool_path("memleak");
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    waitpid(gone, nullptr, 0);
    Finished missing = run({tool, "-p", std::to_string(gone)});
    CHECK(missing.exit_code == 1);
    CHECK(lines(missing.err).size() == 1);
    CHECK(missing.err.find(std::to_string(gone)) != std::string::npos);
    // A library that is no allocator.
    Workload w;
    Finished no_malloc = run({tool, "-O", workload_path(), "-p", w.pid_text()});
    CHECK(no_malloc.exit_code == 1);
    CHECK(lines(no_malloc.err).size() == 1);
    CHECK(no_malloc.err.find("defines no malloc") != std::string::npos);
    Finished both = run({tool, "-p", w.pid_text(), "--command", "true"});
    CHECK(both.exit_code == 2);
    Finished sizes = run({tool, "-z", "100", "-Z", "10"});
    CHECK(sizes.exit_code == 2);
    CHECK(sizes.err.find("--min-size 100") != std::string::npos);
    Finished nothing = run({tool, "--command", "no_such_program_xyz"});
    CHECK(nothing.exit_code == 2);
    CHECK(nothing.err.find("no_such_program_xyz") != std::string::npos);
    Finished btf = run({tool, "--dry-run", "--btf", "/sys/kernel/btf/vmlinux"});
    CHECK(btf.exit_code == 0);
}

} // namespace test_memleak
