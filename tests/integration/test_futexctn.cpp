// futexctn against a child of this test whose two threads contend one
// pthread mutex: a holder takes it and keeps it hold_ms, a waiter blocks on
// it meanwhile, rounds times. The lock's address is known (a global, the
// same in the forked child), so each run's row for it is found by PID and
// address.
#include "harness.h"
#include "json_lines.h"
#include "svg_reader.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace test_futexctn {

using namespace itest;
using nlohmann::json;

namespace {

constexpr int rounds = 8;
constexpr long hold_ms = 30;

pthread_mutex_t contended = PTHREAD_MUTEX_INITIALIZER;
int to_waiter[2]; // the holder has the lock: go and wait for it
int to_holder[2]; // the waiter had its turn: take it again

} // namespace

// Not static, not inlined: the names the symbolizer must find in the
// waiter's stack. The waiter's own frame may be skipped by frame-pointer
// unwinding from inside the C library (built without frame pointers), so
// the thread's start routine calls it and both are looked for.
extern "C" __attribute__((noinline)) void corescope_futexctn_test_wait() {
    pthread_mutex_lock(&contended);
    pthread_mutex_unlock(&contended);
}

extern "C" __attribute__((noinline)) void* corescope_futexctn_test_waiter(void*) {
    char c;
    for (int i = 0; i < rounds; i++) {
        if (read(to_waiter[0], &c, 1) != 1) break;
        corescope_futexctn_test_wait();
        if (write(to_holder[1], "x", 1) != 1) break;
    }
    return nullptr;
}

namespace {

// The child's work: rounds of holding the lock hold_ms while the waiter
// blocks on it. Returns 0 when every round ran.
int contend() {
    if (pipe(to_waiter) != 0 || pipe(to_holder) != 0) return 1;
    pthread_t waiter;
    if (pthread_create(&waiter, nullptr, corescope_futexctn_test_waiter, nullptr) != 0) return 1;
    char c;
    for (int i = 0; i < rounds; i++) {
        pthread_mutex_lock(&contended);
        if (write(to_waiter[1], "x", 1) != 1) return 1;
        struct timespec hold {
            0, hold_ms * 1000000
        };
        nanosleep(&hold, nullptr);
        pthread_mutex_unlock(&contended);
        if (read(to_holder[0], &c, 1) != 1) return 1;
    }
    pthread_join(waiter, nullptr);
    return 0;
}

// A child named comm that runs contend() once told to, says how it went,
// and then stays alive (blocked on a pipe) so that the tools can still read
// its mappings and name its stack when they print.
class ContendingChild {
  public:
    explicit ContendingChild(const std::string& comm) {
        int go[2], done[2];
        if (pipe(go) != 0 || pipe(done) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            close(go[1]);
            close(done[0]);
            prctl(PR_SET_NAME, comm.c_str());
            char c;
            if (read(go[0], &c, 1) != 1) _exit(1);
            c = static_cast<char>(contend());
            if (write(done[1], &c, 1) != 1) _exit(1);
            while (read(go[0], &c, 1) > 0) {
            }
            _exit(0);
        }
        close(go[0]);
        close(done[1]);
        go_fd_ = go[1];
        done_fd_ = done[0];
    }
    ~ContendingChild() {
        close(go_fd_);
        close(done_fd_);
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    ContendingChild(const ContendingChild&) = delete;
    ContendingChild& operator=(const ContendingChild&) = delete;
    pid_t pid() const { return pid_; }
    // Runs the rounds; contend()'s result, or -1 if the child died.
    int run() {
        char c;
        if (write(go_fd_, "x", 1) != 1 || read(done_fd_, &c, 1) != 1) return -1;
        return c;
    }

  private:
    pid_t pid_ = -1;
    int go_fd_ = -1;
    int done_fd_ = -1;
};

std::string lock_address() {
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx",
                  static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(&contended)));
    return b;
}

// The JSON records of the child's lock.
std::vector<json> lock_rows(const std::string& out, pid_t pid) {
    std::vector<json> rows;
    for (const json& r : json_lines(out))
        if (r.at("type") == "histogram" && r.at("pid") == pid && r.at("lock") == lock_address())
            rows.push_back(r);
    return rows;
}

// Waits of at least this long, in microseconds: each is the hold time less
// the time the waiter took from its wake-up on the pipe to its lock call,
// which is well under hold_ms even on a busy host; a tool that timed the
// wrong span (a wake, an exit without its entry) falls under it.
constexpr uint64_t long_wait_us = hold_ms * 1000 / 4;

// Every round's wait is in the row(s) for the lock: their counts add up to
// at least rounds - 1 (one wait may be unseen: docs/reliability.md), the long
// waits' buckets hold as many, and no more waits than a few retries allow.
void check_waits(const std::vector<json>& rows) {
    uint64_t count = 0, long_waits = 0, total_us = 0, max_us = 0;
    for (const json& r : rows) {
        count += r.at("count").get<uint64_t>();
        total_us += r.at("total_us").get<uint64_t>();
        max_us = std::max(max_us, r.at("max_us").get<uint64_t>());
        CHECK(r.at("total") == r.at("count")); // the histogram holds every wait
        CHECK(r.at("unit") == "usecs");
        for (const json& b : r.at("buckets"))
            if (b.at("low").get<uint64_t>() >= 8192) long_waits += b.at("count").get<uint64_t>();
    }
    INFO(count << " waits, " << long_waits << " of 8 ms or more, " << total_us << " us in all");
    CHECK(long_waits + 1 >= static_cast<uint64_t>(rounds));
    CHECK(count <= static_cast<uint64_t>(rounds) * 2);
    CHECK(total_us >= long_waits * long_wait_us);
    CHECK(max_us >= long_wait_us);
    CHECK(max_us < static_cast<uint64_t>(hold_ms) * 1000 * 10);
}

} // namespace

TEST_CASE("futexctn times a child's waits on a contended mutex by lock and stack, on both tiers",
          "[futexctn]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("ftxc-");
    ContendingChild child(comm);
    GatedChild other(contend, "ftxc-other");
    std::string pid = std::to_string(child.pid());
    std::string lock = lock_address();
    ToolProcess text({tool_path("futexctn"), "-p", pid});
    ToolProcess jsonl({tool_path("futexctn"), "-p", pid, "-o", "json"});
    ToolProcess raw({tool_path("futexctn"), "-p", pid, "-o", "json", "-l", lock, "--no-stacks"},
                    ToolProcess::Stdout::pipe,
                    [] { setenv("CORESCOPE_SKIP_ATTACH", "tracepoint", 1); });
    // -n both ways: the child's name, and one no process has.
    ToolProcess named({tool_path("futexctn"), "-n", comm, "-o", "json", "--no-stacks"});
    ToolProcess unnamed({tool_path("futexctn"), "-n", "ftxc-nobody", "-o", "json"});
    // A lock the child never waits on.
    ToolProcess other_lock({tool_path("futexctn"), "-p", pid, "-o", "json", "-l", "0x1000"});
    // --min-wait both ways (longer than every wait; shorter), with -m, --top
    // and a stack map of one entry.
    ToolProcess too_long({tool_path("futexctn"), "-p", pid, "-o", "json", "--min-wait", "100000"});
    ToolProcess top({tool_path("futexctn"), "-p", pid, "-o", "json", "-m", "--min-wait", "5000",
                     "--top", "1", "--stack-storage-size", "1"});
    // -o svg: one flame graph of the time waited.
    ToolProcess svg({tool_path("futexctn"), "-p", pid, "-o", "svg"});
    for (ToolProcess* p :
         {&text, &jsonl, &raw, &named, &unnamed, &other_lock, &too_long, &top, &svg})
        REQUIRE(p->wait_attached());
    REQUIRE(child.run() == 0);
    REQUIRE(other.run() == 0);

    Finished t = text.stop();
    Finished j = jsonl.stop();
    Finished r = raw.stop();
    Finished n = named.stop();
    Finished u = unnamed.stop();
    Finished o = other_lock.stop();
    Finished l = too_long.stop();
    Finished m = top.stop();
    Finished g = svg.stop();
    for (const Finished* f : {&t, &j, &r, &n, &u, &o, &l, &m, &g})
        CHECK(f->exit_code == 0);
    INFO("text:\n"
         << t.out << "\njson:\n"
         << j.out << "\nraw:\n"
         << r.out << "\nstderr: " << j.err);

    // JSON on the tracepoint tier: the waits, and the waiter's stack.
    std::vector<json> rows = lock_rows(j.out, child.pid());
    REQUIRE(!rows.empty());
    check_waits(rows);
    bool stack_named = false;
    for (const json& row : rows) {
        CHECK(row.at("comm").get<std::string>().starts_with("ftxc-"));
        stack_named = stack_named ||
                      has_frame(row.at("user_stack"), "corescope_futexctn_test_wait") ||
                      has_frame(row.at("user_stack"), "corescope_futexctn_test_waiter");
    }
    CHECK(stack_named);
    // Only the child's process: -p keeps the other twin out.
    for (const json& rec : json_lines(j.out))
        if (rec.at("type") == "histogram") CHECK(rec.at("pid") == child.pid());

    // The raw sys_enter/sys_exit tier with -l and no stacks: one row per
    // process and lock, the same waits.
    std::vector<json> raw_rows = lock_rows(r.out, child.pid());
    REQUIRE(raw_rows.size() == 1);
    CHECK(!raw_rows[0].contains("user_stack"));
    check_waits(raw_rows);
    for (const json& rec : json_lines(r.out))
        if (rec.at("type") == "histogram") CHECK(rec.at("lock") == lock);

    // -n: the child's rows, not the other's; nobody's: nothing.
    std::vector<json> named_rows = lock_rows(n.out, child.pid());
    REQUIRE(named_rows.size() == 1);
    check_waits(named_rows);
    for (const json& rec : json_lines(n.out))
        if (rec.at("type") == "histogram") CHECK(rec.at("pid") != other.pid());
    for (const json& rec : json_lines(u.out))
        CHECK(rec.at("type") != "histogram");
    for (const json& rec : json_lines(o.out))
        CHECK(rec.at("type") != "histogram");
    CHECK(lock_rows(l.out, child.pid()).empty());

    // --top 1 -m --min-wait 5000: one histogram, the lock's, in
    // milliseconds, every wait in it of 4 ms or more (the 5 ms threshold's
    // bucket), all the long waits still there.
    std::vector<json> top_rows;
    for (const json& rec : json_lines(m.out))
        if (rec.at("type") == "histogram") top_rows.push_back(rec);
    REQUIRE(top_rows.size() == 1);
    CHECK(top_rows[0].at("lock") == lock);
    CHECK(top_rows[0].at("unit") == "msecs");
    CHECK(top_rows[0].at("min_us").get<uint64_t>() >= 5000);
    CHECK(top_rows[0].at("count").get<uint64_t>() + 1 >= static_cast<uint64_t>(rounds));
    for (const json& b : top_rows[0].at("buckets"))
        if (b.at("count").get<uint64_t>() > 0) CHECK(b.at("low").get<uint64_t>() >= 4);

    // Text: the label line of the lock, with its counts, the stack under it
    // and the histogram's rows.
    std::vector<std::string> labels =
        lines_containing(t.out, "PID " + pid + " (" + comm + ") lock " + lock + ": ");
    REQUIRE(!labels.empty());
    uint64_t text_waits = 0;
    for (const std::string& label : labels) {
        size_t colon = label.find(": ");
        text_waits += std::stoull(label.substr(colon + 2));
    }
    uint64_t json_waits = 0;
    for (const json& row : rows)
        json_waits += row.at("count").get<uint64_t>();
    CHECK(text_waits == json_waits);
    CHECK(t.out.find("corescope_futexctn_test_wait") != std::string::npos);
    CHECK(t.out.find("usecs") != std::string::npos);

    // -o svg: the waiter's frames, and above them the lock's frame, as wide
    // as the microseconds waited on it (every long wait's).
    svgreader::Result graph = svgreader::read(g.out);
    INFO(graph.error << "\nsvg:\n" << g.out.substr(0, 2000));
    REQUIRE(graph.root);
    uint64_t lock_us = 0;
    bool waiter = false;
    for (const svgreader::Element* e : graph.root->all("g")) {
        if (e->attribute("class").rfind("f ", 0) != 0) continue;
        std::string title = e->child("title")->text;
        waiter = waiter || title.find("corescope_futexctn_test_wait") != std::string::npos;
        if (!title.starts_with("lock " + lock + " (")) continue;
        CHECK(title.find(" us, ") != std::string::npos);
        lock_us += std::stoull(e->attribute("data-c"));
    }
    CHECK(waiter);
    CHECK(lock_us >= static_cast<uint64_t>(rounds - 1) * long_wait_us);
}

TEST_CASE("futexctn refuses a bad lock address and prints intervals", "[futexctn]") {
    REQUIRE_BPF();
    Finished bad = run({tool_path("futexctn"), "-l", "zz"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("zz") != std::string::npos);
    // Two one-second intervals of a lock nobody waits on, then an exit.
    Finished two = run({tool_path("futexctn"), "-l", "0x1000", "-T", "1", "2"});
    CHECK(two.exit_code == 0);
    CHECK(lines(two.out).size() == 2); // the two time lines
}

} // namespace test_futexctn
