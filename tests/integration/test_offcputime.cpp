// offcputime against a child of this test that blocks in a function of its
// own, with a name no other program has, ten times for 200 ms.
#include "harness.h"
#include "json_lines.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace test_offcputime {

using namespace itest;
using nlohmann::json;

namespace {

constexpr const char* sleeper = "corescope_test_nanosleeper";
constexpr int sleeps = 10;
constexpr long sleep_ms = 200;

// A child named comm that, once started, runs the sleeper, says it is done,
// and then stays alive (blocked on a pipe) so that its stacks can still be
// symbolized when the tools print.
struct SleepingChild {
    pid_t pid = -1;
    int go_fd = -1;
    int done_fd = -1;
    double slept_s = 0; // wall time from start() to done

    explicit SleepingChild(const std::string& comm) {
        int go[2], done[2];
        if (pipe(go) != 0 || pipe(done) != 0) throw std::runtime_error("pipe failed");
        pid = fork();
        if (pid == 0) {
            close(go[1]);
            close(done[0]);
            prctl(PR_SET_NAME, comm.c_str());
            char c;
            if (read(go[0], &c, 1) != 1) _exit(1);
            corescope_test_nanosleeper(sleep_ms, sleeps);
            if (write(done[1], "x", 1) != 1) _exit(1);
            while (read(go[0], &c, 1) > 0) {
            }
            _exit(0);
        }
        close(go[0]);
        close(done[1]);
        go_fd = go[1];
        done_fd = done[0];
    }
    // Starts the sleeps and waits until they are over.
    void sleep_through() {
        double begin = now_s();
        if (write(go_fd, "x", 1) != 1) throw std::runtime_error("cannot start the child");
        char c;
        if (read(done_fd, &c, 1) != 1) throw std::runtime_error("the child died");
        slept_s = now_s() - begin;
    }
    void end() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        pid = -1;
    }
    ~SleepingChild() {
        if (go_fd >= 0) close(go_fd);
        if (done_fd >= 0) close(done_fd);
        end();
    }
};

// Microseconds off CPU, summed over the stacks that went through the sleeper.
struct Sum {
    uint64_t us = 0;
    uint64_t count = 0;
    size_t stacks = 0;
};

Sum sleeper_json(const std::vector<json>& records, pid_t pid) {
    Sum sum;
    for (const json& r : records) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("pid") == pid);
        if (!has_frame(r.at("user_stack"), sleeper)) continue;
        CHECK(r.at("tid") == pid);
        sum.us += r.at("total_us").get<uint64_t>();
        sum.count += r.at("count").get<uint64_t>();
        sum.stacks++;
    }
    return sum;
}

// Folded lines: COMM;frame;...;frame USECS.
Sum sleeper_folded(const std::string& out, const std::string& comm) {
    Sum sum;
    for (const std::string& line : lines(out)) {
        size_t space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        CHECK(line.compare(0, comm.size() + 1, comm + ";") == 0);
        if (line.find(sleeper) == std::string::npos) continue;
        sum.us += std::stoull(line.substr(space + 1));
        sum.stacks++;
    }
    return sum;
}

// Classic text: frames, "-  COMM (TID)", the microseconds, a blank line.
Sum sleeper_text(const std::string& out, const std::string& comm, pid_t pid) {
    Sum sum;
    std::vector<std::string> block;
    auto end_block = [&] {
        if (block.size() >= 3) {
            bool through_sleeper = false;
            for (const std::string& line : block)
                through_sleeper = through_sleeper || line.find(sleeper) != std::string::npos;
            const std::string& who = block[block.size() - 2];
            CHECK(who.find(" " + comm + " (" + std::to_string(pid) + ")") != std::string::npos);
            if (through_sleeper) {
                sum.us += std::stoull(block.back());
                sum.stacks++;
            }
        }
        block.clear();
    };
    for (const std::string& line : lines(out)) {
        if (line.empty())
            end_block();
        else
            block.push_back(line);
    }
    end_block();
    return sum;
}

// The child's sleeps as a JSON run saw them: its blocks in nanosleep (by the
// kernel stack, so -U and --user-stacks-only runs are told apart below).
Sum nanosleeps(const std::vector<json>& records, pid_t pid) {
    Sum sum;
    for (const json& r : records) {
        if (r.at("type") != "stack" || r.at("pid") != pid ||
            !has_frame(r.at("kernel_stack"), "do_nanosleep"))
            continue;
        sum.us += r.at("total_us").get<uint64_t>();
        sum.count += r.at("count").get<uint64_t>();
        sum.stacks++;
    }
    return sum;
}

// Every sleep, each of 200 ms (a few microseconds less at most: the switch
// out comes just after the timer was armed), and no more than the wall time
// they all took. One may be missing: on the sandbox these tests were written
// on, the kernel runs no BPF program while its agent's thread is on a CPU
// (docs/reliability.md), so a sleeper switched in from that thread is not
// seen back, for every tool alike. The kernel may split a sleep in two: a
// wake-up that is not the timer's puts the task back to sleep inside
// do_nanosleep (a loaded run saw 11 blocks of 2.0 s in all, in each of four
// runs alike), so the blocks are counted loosely and the time strictly. A
// tool that lost sleeps, cut them short or added to them still fails.
void check_sleeps(const Sum& sum, double slept_s) {
    INFO(sum.count << " sleeps seen, " << sum.us << " us in all, over " << slept_s << " s");
    CHECK(sum.count <= static_cast<uint64_t>(sleeps) + 2);
    CHECK(sum.count + 1 >= static_cast<uint64_t>(sleeps));
    uint64_t least_us = static_cast<uint64_t>(sleep_ms * 1000 - 100);
    CHECK(sum.us >= std::min<uint64_t>(sum.count, sleeps) * least_us);
    CHECK(sum.us <= static_cast<uint64_t>(slept_s * 1e6));
}

// Another run (text, folded) over the same sleeps, which gives only a total:
// the same as the JSON run's, to within the few microseconds between two
// programs run one after the other at each switch, and a short block seen
// by one run only: a clean-clone CI run (2026-12-06) had the text run 1.4 ms
// above the JSON run's 2.008 s, in a stack through the child's write after
// its sleeps (not understood). 5 ms over all: a lost or added sleep is 200.
void check_same_time(const Sum& other, const Sum& from_json) {
    INFO(other.us << " us against " << from_json.us << " us in JSON");
    CHECK(other.stacks >= 1);
    CHECK(other.us + 5000 >= from_json.us);
    CHECK(other.us <= from_json.us + 5000);
}

// A filter dropped the sleeps: far less than one of them is left.
bool hidden(const Sum& sum) {
    return sum.us < static_cast<uint64_t>(sleep_ms * 1000 / 2);
}

} // namespace

TEST_CASE("offcputime -p sums the time a child blocks, by its stack, in every format",
          "[offcputime]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("ocpu-");
    SleepingChild child(comm);
    std::string pid = std::to_string(child.pid);
    ToolProcess text({tool_path("offcputime"), "-p", pid});
    ToolProcess folded({tool_path("offcputime"), "-p", pid, "-f"});
    ToolProcess jsonl({tool_path("offcputime"), "-p", pid, "-o", "json"});
    ToolProcess after_exit({tool_path("offcputime"), "-p", pid, "-o", "json"});
    REQUIRE(text.wait_attached());
    REQUIRE(folded.wait_attached());
    REQUIRE(jsonl.wait_attached());
    REQUIRE(after_exit.wait_attached());
    std::set<unsigned> held = bpf_programs_held_by(jsonl.pid());
    CHECK(!held.empty());
    child.sleep_through();
    Finished t = text.stop();
    Finished f = folded.stop();
    Finished j = jsonl.stop();
    CHECK(t.exit_code == 0);
    CHECK(f.exit_code == 0);
    CHECK(j.exit_code == 0);
    INFO("text:\n"
         << t.out << "\nfolded:\n"
         << f.out << "\njson:\n"
         << j.out << "\nstderr: " << j.err);

    std::vector<json> records = json_lines(j.out);
    Sum from_json = sleeper_json(records, child.pid);
    check_sleeps(nanosleeps(records, child.pid), child.slept_s);
    for (const json& r : records) {
        if (r.at("type") != "stack" || !has_frame(r.at("user_stack"), sleeper)) continue;
        CHECK(r.at("comm") == comm);
        CHECK(!r.at("kernel_stack").empty()); // it blocked in the kernel
    }
    check_same_time(sleeper_folded(f.out, comm), from_json);
    check_same_time(sleeper_text(t.out, comm, child.pid), from_json);

    // A process that exits before the end still has its stacks named: the
    // tool read its mappings while it ran.
    pid_t gone = child.pid;
    child.end();
    Finished a = after_exit.stop();
    CHECK(a.exit_code == 0);
    std::vector<json> after = json_lines(a.out);
    check_sleeps(nanosleeps(after, gone), child.slept_s);
    check_same_time(sleeper_json(after, gone), from_json); // named as before

    // Nothing stays loaded once the tool is gone (tp_btf programs are freed
    // after an RCU grace period).
    CHECK(programs_still_loaded(held).empty());
}

TEST_CASE("offcputime filters: block length, task state, thread kind, -t, -p, stack kinds",
          "[offcputime]") {
    REQUIRE_BPF();
    std::string comm = unique_comm("ocpf-");
    SleepingChild child(comm);
    std::string pid = std::to_string(child.pid);
    auto json_tool = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv{tool_path("offcputime"), "-p", pid, "-o", "json"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return std::make_unique<ToolProcess>(argv);
    };
    auto above = json_tool({"--min-block", "300000"}); // longer than every sleep
    auto below = json_tool({"--max-block", "100000"}); // shorter than every sleep
    auto around = json_tool({"--min-block", "150000", "--max-block", "300000"});
    auto uninterruptible = json_tool({"--state", "2"}); // nanosleep is interruptible
    auto interruptible = json_tool({"--state", "0x1"});
    auto plain = json_tool({});
    auto user_threads = json_tool({"--user-threads-only"});
    auto kernel_threads = json_tool({"--kernel-threads-only"});
    // -t instead of -p, and -p of another process (this one).
    std::vector<std::string> by_tid{tool_path("offcputime"), "-t", pid, "-o", "json"};
    auto tid_only = std::make_unique<ToolProcess>(by_tid);
    std::vector<std::string> other{tool_path("offcputime"), "-p", std::to_string(getpid()), "-o",
                                   "json"};
    auto other_process = std::make_unique<ToolProcess>(other);
    auto user_only = json_tool({"--user-stacks-only"});
    auto kernel_only = json_tool({"--kernel-stacks-only"});
    for (auto* p : {above.get(), below.get(), around.get(), uninterruptible.get(),
                    interruptible.get(), plain.get(), user_threads.get(), kernel_threads.get(),
                    tid_only.get(), other_process.get(), user_only.get(), kernel_only.get()})
        REQUIRE(p->wait_attached());
    child.sleep_through();

    auto finish = [](std::unique_ptr<ToolProcess>& p) {
        Finished r = p->stop();
        CHECK(r.exit_code == 0);
        return json_lines(r.out);
    };
    // The sleeps are gone; at most a short page fault in the sleeper is left.
    CHECK(hidden(sleeper_json(finish(above), child.pid)));
    CHECK(hidden(sleeper_json(finish(below), child.pid)));
    check_sleeps(nanosleeps(finish(around), child.pid), child.slept_s);
    CHECK(hidden(sleeper_json(finish(uninterruptible), child.pid)));
    check_sleeps(nanosleeps(finish(interruptible), child.pid), child.slept_s);

    std::vector<json> plain_records = finish(plain);
    check_sleeps(nanosleeps(plain_records, child.pid), child.slept_s);
    check_sleeps(nanosleeps(finish(user_threads), child.pid), child.slept_s);
    CHECK(sleeper_json(finish(kernel_threads), child.pid).stacks == 0);
    check_sleeps(nanosleeps(finish(tid_only), child.pid), child.slept_s);
    for (const json& r : finish(other_process)) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("pid") == getpid());
        CHECK(!has_frame(r.at("user_stack"), sleeper));
    }

    std::vector<json> user = finish(user_only);
    check_same_time(sleeper_json(user, child.pid), sleeper_json(plain_records, child.pid));
    for (const json& r : user)
        if (r.at("type") == "stack") CHECK(r.at("kernel_stack").empty());

    // Without user stacks the sleeper is not named: find the child's time by
    // its kernel stacks, which all end in the scheduler.
    std::vector<json> kernel = finish(kernel_only);
    for (const json& r : kernel) {
        if (r.at("type") != "stack") continue;
        CHECK(r.at("user_stack").empty());
        CHECK(!r.at("kernel_stack").empty());
    }
    check_sleeps(nanosleeps(kernel, child.pid), child.slept_s);
}

TEST_CASE("offcputime rejects bad flags with exit 2, naming the value", "[offcputime]") {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--state", "abc"}, "'abc'"},
        {{"--state", "0xzz"}, "'0xzz'"},
        {{"--min-block", "-5"}, "'-5'"},
        {{"--max-block", "ten"}, "'ten'"},
        {{"--min-block", "500", "--max-block", "100"}, "--min-block 500"},
        {{"--stack-storage-size", "0"}, "'0'"},
        {{"--perf-max-stack-depth", "1000"}, "'1000'"},
        {{"--user-stacks-only", "--kernel-stacks-only"}, "--kernel-stacks-only"},
        {{"--user-threads-only", "--kernel-threads-only"}, "--kernel-threads-only"},
        {{"-f", "-o", "json"}, "-f"},
        {{"-p", "abc"}, "'abc'"},
        {{"-m"}, "-m"},
    };
    for (const auto& [args, named] : cases) {
        std::vector<std::string> argv{tool_path("offcputime")};
        argv.insert(argv.end(), args.begin(), args.end());
        Finished r = run(argv);
        INFO(args[0] << ": " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(named) != std::string::npos);
        CHECK(r.out.empty());
    }
}

} // namespace test_offcputime
